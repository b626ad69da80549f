/** A cluster document of two directors and `servers` real servers in services of 50. */
export function clusterDocument(name: string, servers: number, weight?: number): Record<string, any>;
