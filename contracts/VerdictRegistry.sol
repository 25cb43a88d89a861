// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";

/// @title Sealed rulings of the Verdict court.
/// @notice The server commits SHA-256(ruling, salt, ...) per case before voting opens; anyone can
/// read it back after the reveal and recompute it. A commitment is written once and never changed.
contract VerdictRegistry is Ownable {
    mapping(bytes32 caseKey => bytes32 commitment) private commitments;

    event Committed(bytes32 indexed caseKey, bytes32 commitment);

    error EmptyCommitment();
    error AlreadyCommitted(bytes32 caseKey);

    constructor(address owner) Ownable(owner) {}

    function commit(bytes32 caseKey, bytes32 commitment) external onlyOwner {
        if (commitment == bytes32(0)) revert EmptyCommitment();
        if (commitments[caseKey] != bytes32(0)) revert AlreadyCommitted(caseKey);
        commitments[caseKey] = commitment;
        emit Committed(caseKey, commitment);
    }

    function commitmentOf(bytes32 caseKey) external view returns (bytes32) {
        return commitments[caseKey];
    }
}
