/** Protobuf's wire format, as far as Prometheus's exposition needs it (written, never read). */
export const VARINT = 0;
const FIXED64 = 1;
const LENGTH_DELIMITED = 2;

/** A growing buffer of protobuf fields; nested messages are written in place and their length put before them. */
export class ProtobufWriter {
  private buffer: Buffer;
  private position = 0;
  private readonly starts: number[] = [];

  constructor(initialBytes = 64 * 1024) {
    this.buffer = Buffer.allocUnsafe(initialBytes);
  }

  bytes(): Buffer {
    return this.buffer.subarray(0, this.position);
  }

  /** Empties the writer, keeping its memory for the next message. */
  reset(): void {
    this.position = 0;
    this.starts.length = 0;
  }

  private reserve(bytes: number): void {
    if (this.position + bytes <= this.buffer.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.buffer.length * 2, this.position + bytes));
    this.buffer.copy(grown, 0, 0, this.position);
    this.buffer = grown;
  }

  /** An unsigned integer up to 2^53. */
  varint(value: number): void {
    this.reserve(10);
    while (value >= 0x80) {
      this.buffer[this.position++] = (value % 0x80) | 0x80;
      value = Math.floor(value / 0x80);
    }
    this.buffer[this.position++] = value;
  }

  tag(field: number, wireType: number): void {
    this.varint(field * 8 + wireType);
  }

  doubleField(field: number, value: number): void {
    this.tag(field, FIXED64);
    this.reserve(8);
    this.position = this.buffer.writeDoubleLE(value, this.position);
  }

  varintField(field: number, value: number): void {
    this.tag(field, VARINT);
    this.varint(value);
  }

  stringField(field: number, value: string): void {
    const length = Buffer.byteLength(value);
    this.tag(field, LENGTH_DELIMITED);
    this.varint(length);
    this.reserve(length);
    this.position += this.buffer.write(value, this.position);
  }

  raw(bytes: Buffer): void {
    this.reserve(bytes.length);
    this.position += bytes.copy(this.buffer, this.position);
  }

  /** Drops what the last `begin` started. */
  abandon(): void {
    this.position = this.starts.pop()!;
  }

  /** Starts a nested message (or a packed field); end it with `end`. */
  begin(): void {
    this.starts.push(this.position);
  }

  /** Ends what `begin` started, as field `field`, or, without one, as a varint-delimited message. */
  end(field?: number): void {
    const start = this.starts.pop()!;
    const length = this.position - start;
    const header = (field === undefined ? 0 : varintSize(field * 8 + LENGTH_DELIMITED)) + varintSize(length);
    this.reserve(header);
    this.buffer.copyWithin(start + header, start, this.position);
    const end = this.position + header;
    this.position = start;
    if (field !== undefined) this.tag(field, LENGTH_DELIMITED);
    this.varint(length);
    this.position = end;
  }
}

function varintSize(value: number): number {
  let size = 1;
  while (value >= 0x80) {
    value = Math.floor(value / 0x80);
    size++;
  }
  return size;
}

/** Zigzag encoding of sint32 and sint64 (0, -1, 1, -2 … → 0, 1, 2, 3 …), for integers of a double's range. */
export function zigzag(value: number): number {
  return value >= 0 ? value * 2 : -value * 2 - 1;
}
