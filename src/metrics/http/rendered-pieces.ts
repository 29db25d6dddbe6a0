/**
 * The bytes rendered from each series of a family in one format, by series id, kept until the
 * series' version (its count) moves: a scrape renders only the series that saw traffic since the
 * last, and copies the rest.
 */
export class RenderedPieces<Series extends { readonly id: number; readonly count: number }> {
  private readonly versions: number[] = [];
  private readonly pieces: Buffer[] = [];

  constructor(private readonly render: (series: Series) => Buffer) {}

  of(series: Series): Buffer {
    const { id, count } = series;
    if (this.versions[id] === count) return this.pieces[id]!;
    const piece = this.render(series);
    this.versions[id] = count;
    this.pieces[id] = piece;
    return piece;
  }
}
