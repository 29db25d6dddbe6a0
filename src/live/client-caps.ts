/** Why a stream client is refused by the caps: too many clients in all, or from its address. */
export const CAP_REASONS = ['total', 'address'] as const;
export type CapReason = (typeof CAP_REASONS)[number];

/**
 * The open /stream clients, counted in total and per client address, under STREAM_MAX_CLIENTS and
 * STREAM_MAX_CLIENTS_PER_ADDRESS. An address is kept only while it has clients, so the map is
 * bounded by the total cap.
 */
export class LiveClientCaps {
  private total = 0;
  private readonly perAddress = new Map<string, number>();

  constructor(
    private readonly maxClients: number,
    private readonly maxClientsPerAddress: number,
  ) {}

  /** Why one more client from `address` is refused, or undefined if it fits. */
  refusal(address: string): CapReason | undefined {
    if (this.total >= this.maxClients) return 'total';
    if ((this.perAddress.get(address) ?? 0) >= this.maxClientsPerAddress) return 'address';
    return undefined;
  }

  opened(address: string): void {
    this.total++;
    this.perAddress.set(address, (this.perAddress.get(address) ?? 0) + 1);
  }

  closed(address: string): void {
    this.total--;
    const left = (this.perAddress.get(address) ?? 1) - 1;
    if (left > 0) this.perAddress.set(address, left);
    else this.perAddress.delete(address);
  }
}
