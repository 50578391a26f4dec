// cluster-key-slot (ioredis's own dependency: Redis Cluster's CRC16 hash slot of a key) ships no types.
declare module 'cluster-key-slot' {
  /** The Redis Cluster hash slot (0–16383) of a key, honouring `{hash tags}`. */
  // biome-ignore lint/style/noDefaultExport: the module's own CommonJS export, typed as it is
  export default function calculateSlot(key: string): number;
}
