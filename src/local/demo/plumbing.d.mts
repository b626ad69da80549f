export function freeUdpPort(): Promise<number>;
