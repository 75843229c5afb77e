/**
 * A plain-text table: a header row, left-aligned columns two spaces apart, no colours (output is
 * often piped or pasted into tickets). Pure: rows in, lines out.
 */

export interface TableOptions {
  /** Maximum line width (the terminal's); undefined: no limit. */
  maxWidth?: number;
  /** The column that gives up width when a line would exceed `maxWidth` (its cells end in `…`). */
  shrink?: string;
  /** The shrinking column never gets narrower than this. Default 12. */
  minShrinkWidth?: number;
}

const GAP = '  ';

/** Cuts `text` to `width` characters, marking the cut with `…`. */
export function truncate(text: string, width: number): string {
  if (width <= 0) return '';
  if (text.length <= width) return text;
  return width === 1 ? '…' : `${text.slice(0, width - 1)}…`;
}

/** One cell per header, in order. Cells are single-line: newlines become spaces. */
export function renderTable(headers: readonly string[], rows: readonly (readonly string[])[], options: TableOptions = {}): string[] {
  const clean = rows.map((row) => headers.map((_, i) => (row[i] ?? '').replace(/\s*\n\s*/g, ' ')));
  const widths = headers.map((h, i) => Math.max(h.length, ...clean.map((r) => r[i]!.length)));
  const shrinkIndex = options.shrink === undefined ? -1 : headers.indexOf(options.shrink);
  if (options.maxWidth !== undefined && shrinkIndex >= 0) {
    const total = widths.reduce((a, b) => a + b, 0) + GAP.length * (headers.length - 1);
    const excess = total - options.maxWidth;
    if (excess > 0) {
      const floor = Math.max(options.minShrinkWidth ?? 12, headers[shrinkIndex]!.length);
      widths[shrinkIndex] = Math.max(floor, widths[shrinkIndex]! - excess);
    }
  }
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, i) => {
        const fitted = i === shrinkIndex ? truncate(cell, widths[i]!) : cell;
        return i === cells.length - 1 ? fitted : fitted.padEnd(widths[i]!);
      })
      .join(GAP)
      .trimEnd();
  return [line(headers), ...clean.map(line)];
}
