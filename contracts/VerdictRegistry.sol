// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";

/// @title Sealed rulings of the Verdict court.
/// @notice Before voting opens, the server commits, per case, SHA-256 over seven netstrings
/// (`<UTF-8 byte length in decimal>:<bytes>,`) of: the tag `verdict-commitment-v1`, the chain id
/// in decimal, this registry's address as lower-case 0x hex, the case id as a lower-case dashed
/// uuid, the side `A` or `B`, the reasoning (UTF-8) and the salt as `0x` + 64 lower-case hex
/// digits. Once the case has closed, the server reveals the ruling: this contract recomputes the
/// hash itself and accepts the reveal only if it matches, so anyone can see that the ruling was
/// fixed before the votes. The reveal also records the Merkle root of the case's ledger, against
/// which any entry can then be proven. A commitment is written once and never changed; a reveal
/// too.
/// @dev A case key is the case's uuid (16 bytes) left-padded with zeros to bytes32.
/// OpenZeppelin 5.7's `Strings` cannot be imported here: it pulls in `Bytes`, whose assembly uses
/// `mcopy` (Cancun), and this contract is compiled for Shanghai, the newest EVM that the dev chain
/// (Ganache 7) runs. The decimal and hex conversions it would give are therefore written below.
contract VerdictRegistry is Ownable {
    /// @notice What the registry knows about one case.
    /// @dev Packed: `committedAt`, `closesAt`, `revealedAt` and `side` share one slot.
    struct Record {
        bytes32 commitment;
        uint64 committedAt;
        uint64 closesAt;
        uint64 revealedAt;
        uint8 side;
        bytes32 ledgerRoot;
    }

    /// @notice `side` of a case not revealed yet.
    uint8 private constant SIDE_NONE = 0;
    /// @notice `side` of a ruling for A.
    uint8 private constant SIDE_A = 1;
    /// @notice `side` of a ruling for B.
    uint8 private constant SIDE_B = 2;

    /// @dev The first netstring of every preimage: it names the format, and its version.
    string private constant COMMITMENT_TAG = "verdict-commitment-v1";
    bytes16 private constant HEX_DIGITS = "0123456789abcdef";

    mapping(bytes32 caseKey => Record) private records;

    /// @notice A case's ruling was sealed; it can be revealed from `closesAt` on.
    event Committed(bytes32 indexed caseKey, bytes32 commitment, uint64 closesAt);
    /// @notice A case's ruling was revealed and matched its commitment; `ledgerRoot` is final.
    event Revealed(bytes32 indexed caseKey, uint8 side, bytes32 ledgerRoot);

    /// @notice The commitment is zero, which is what "no commitment" reads as.
    error EmptyCommitment();
    /// @notice The case already has a commitment: it is never replaced.
    error AlreadyCommitted(bytes32 caseKey);
    /// @notice The case would close before the block that commits it.
    error ClosesInPast(uint64 closesAt);
    /// @notice The case key's high 16 bytes are not zero, so it is not a padded uuid.
    error InvalidCaseKey();
    /// @notice The side is neither 1 (A) nor 2 (B).
    error InvalidSide();
    /// @notice The case has no commitment to reveal.
    error NotCommitted(bytes32 caseKey);
    /// @notice The case was revealed already: a reveal is final.
    error AlreadyRevealed(bytes32 caseKey);
    /// @notice The case is still open: it can be revealed from `closesAt` on.
    error TooEarly(uint64 closesAt);
    /// @notice The revealed values do not hash to the commitment.
    error CommitmentMismatch(bytes32 expected, bytes32 computed);

    constructor(address owner) Ownable(owner) {}

    /// @notice Seals a case's ruling. Only the owner commits; once per case; a zero commitment is
    /// refused, and so is a `closesAt` earlier than this block's timestamp (equal is allowed).
    /// @param caseKey The case's uuid left-padded to bytes32; the high 16 bytes must be zero.
    /// @param commitment SHA-256 of the preimage documented on the contract.
    /// @param closesAt Unix time (seconds) from which the ruling may be revealed.
    function commit(bytes32 caseKey, bytes32 commitment, uint64 closesAt) external onlyOwner {
        if (uint256(caseKey) >> 128 != 0) revert InvalidCaseKey();
        if (commitment == bytes32(0)) revert EmptyCommitment();
        Record storage record = records[caseKey];
        if (record.commitment != bytes32(0)) revert AlreadyCommitted(caseKey);
        if (closesAt < block.timestamp) revert ClosesInPast(closesAt);
        record.commitment = commitment;
        record.committedAt = uint64(block.timestamp);
        record.closesAt = closesAt;
        emit Committed(caseKey, commitment, closesAt);
    }

    /// @notice The case's commitment, or zero when it has none.
    function commitmentOf(bytes32 caseKey) external view returns (bytes32) {
        return records[caseKey].commitment;
    }

    /// @notice Everything recorded for a case; all zero when it has no commitment. `side` is 0
    /// until the reveal, then 1 (A) or 2 (B); `revealedAt` and `ledgerRoot` are zero until then.
    function recordOf(bytes32 caseKey)
        external
        view
        returns (
            bytes32 commitment,
            uint64 committedAt,
            uint64 closesAt,
            uint64 revealedAt,
            uint8 side,
            bytes32 ledgerRoot
        )
    {
        Record storage record = records[caseKey];
        return (
            record.commitment,
            record.committedAt,
            record.closesAt,
            record.revealedAt,
            record.side,
            record.ledgerRoot
        );
    }

    /// @notice Reveals a case's ruling. Only the owner reveals; once per case; not before
    /// `closesAt`. The preimage is rebuilt here from the arguments, this chain's id, this
    /// contract's address and the case key, and its SHA-256 must equal the commitment.
    /// @param side 1 for A, 2 for B.
    /// @param reasoning The ruling's reasoning, exactly as committed (UTF-8).
    /// @param salt The 32 random bytes that hid the ruling.
    /// @param ledgerRoot Root of the case's ledger (an OpenZeppelin StandardMerkleTree), recorded
    /// for `verifyLedgerEntry`.
    function reveal(bytes32 caseKey, uint8 side, string calldata reasoning, bytes32 salt, bytes32 ledgerRoot)
        external
        onlyOwner
    {
        if (side != SIDE_A && side != SIDE_B) revert InvalidSide();
        Record storage record = records[caseKey];
        bytes32 expected = record.commitment;
        if (expected == bytes32(0)) revert NotCommitted(caseKey);
        if (record.side != SIDE_NONE) revert AlreadyRevealed(caseKey);
        if (block.timestamp < record.closesAt) revert TooEarly(record.closesAt);
        bytes32 computed = sha256(_preimage(caseKey, side, reasoning, salt));
        if (computed != expected) revert CommitmentMismatch(expected, computed);
        record.side = side;
        record.revealedAt = uint64(block.timestamp);
        record.ledgerRoot = ledgerRoot;
        emit Revealed(caseKey, side, ledgerRoot);
    }

    /// @notice Whether `leaf` is in the ledger revealed for the case, by its Merkle `proof`.
    /// False for a case not revealed. Leaves are StandardMerkleTree's: keccak256 of keccak256 of
    /// the ABI-encoded values, computed off chain; only the proof is checked here. As with any
    /// Merkle proof, an inner node with its path up (the root with an empty proof) also verifies:
    /// a leaf stands for an entry only when the verifier hashed it from the entry's values.
    function verifyLedgerEntry(bytes32 caseKey, bytes32 leaf, bytes32[] calldata proof) external view returns (bool) {
        Record storage record = records[caseKey];
        if (record.side == SIDE_NONE) return false;
        return MerkleProof.verifyCalldata(proof, record.ledgerRoot, leaf);
    }

    /// @dev The seven netstrings, in the documented order.
    function _preimage(bytes32 caseKey, uint8 side, string calldata reasoning, bytes32 salt)
        private
        view
        returns (bytes memory)
    {
        return abi.encodePacked(
            _netstring(COMMITMENT_TAG),
            _netstring(_decimal(block.chainid)),
            _netstring(_hex(uint160(address(this)), 20)),
            _netstring(_uuidOf(caseKey)),
            _netstring(side == SIDE_A ? "A" : "B"),
            _netstring(reasoning),
            _netstring(_hex(uint256(salt), 32))
        );
    }

    /// @dev `<byte length in decimal>:<bytes>,`: no field can run into the next.
    function _netstring(string memory text) private pure returns (bytes memory) {
        return abi.encodePacked(_decimal(bytes(text).length), ":", text, ",");
    }

    /// @dev `value` in decimal, without leading zeros ("0" for zero).
    function _decimal(uint256 value) private pure returns (string memory) {
        bytes memory out = new bytes(Math.log10(value) + 1);
        for (uint256 i = out.length; i > 0; value /= 10) {
            out[--i] = bytes1(uint8(48 + (value % 10)));
        }
        return string(out);
    }

    /// @dev The low `size` bytes of `value` as `0x` and 2 * `size` lower-case hex digits.
    function _hex(uint256 value, uint256 size) private pure returns (string memory) {
        bytes memory out = new bytes(2 + 2 * size);
        out[0] = "0";
        out[1] = "x";
        for (uint256 i = out.length; i > 2; value >>= 4) {
            out[--i] = HEX_DIGITS[value & 0x0f];
        }
        return string(out);
    }

    /// @dev The case key's low 16 bytes as a lower-case uuid: 8-4-4-4-12 hex digits with dashes.
    function _uuidOf(bytes32 caseKey) private pure returns (string memory) {
        bytes memory out = new bytes(36);
        uint256 at = 0;
        for (uint256 i = 16; i < 32; ++i) {
            if (i == 20 || i == 22 || i == 24 || i == 26) out[at++] = "-";
            uint8 b = uint8(caseKey[i]);
            out[at++] = HEX_DIGITS[b >> 4];
            out[at++] = HEX_DIGITS[b & 0x0f];
        }
        return string(out);
    }
}
