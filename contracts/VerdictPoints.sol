// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";

/// @title Verdict points: whole points, minted by the court as rewards are paid.
contract VerdictPoints is ERC20, Ownable {
    error LengthMismatch();

    constructor(address owner) ERC20("Verdict Points", "VPT") Ownable(owner) {}

    function decimals() public pure override returns (uint8) {
        return 0;
    }

    /// @notice One transaction pays many rewards.
    function mintBatch(address[] calldata to, uint256[] calldata amounts) external onlyOwner {
        if (to.length != amounts.length) revert LengthMismatch();
        for (uint256 i = 0; i < to.length; i++) {
            _mint(to[i], amounts[i]);
        }
    }
}
