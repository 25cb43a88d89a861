export const toHex = (bytes: Uint8Array) => `0x${Buffer.from(bytes).toString('hex')}`;
