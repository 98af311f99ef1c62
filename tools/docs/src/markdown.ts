// Just enough Markdown for the references: code spans and aligned GFM tables, so the committed
// files read well in a terminal diff as well as on GitHub.

/** An inline code span that survives backticks in the text. */
export function code(text: string): string {
  const fence = text.includes('`') ? '``' : '`';
  const pad = fence.length > 1 ? ' ' : '';
  return `${fence}${pad}${text}${pad}${fence}`;
}

/**
 * Plain text (a description from the code) as Markdown: "<main>" would otherwise be taken for an
 * HTML tag and vanish on GitHub, and "*" for emphasis.
 */
export function prose(text: string): string {
  return text.replace(/[\\<*]/g, (c) => `\\${c}`);
}

// A "|" ends a table cell even inside a code span in GFM; a newline ends the row.
const cell = (text: string) => text.replace(/\r?\n/g, ' ').replace(/\|/g, '\\|');

/** A GFM table with every column padded to its widest cell. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const cells = [header, ...rows].map((row) => header.map((_, i) => cell(row[i] ?? '')));
  const widths = header.map((_, i) => Math.max(3, ...cells.map((row) => row[i]?.length ?? 0)));
  const line = (row: readonly string[]) => `| ${row.map((text, i) => text.padEnd(widths[i] ?? 0)).join(' | ')} |`;
  const [head, ...body] = cells;
  return [line(head ?? []), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n');
}

/** Joins blocks with one blank line between them and ends the document with a newline. */
export function document(blocks: readonly (string | undefined)[]): string {
  return `${blocks.filter((b): b is string => b !== undefined && b !== '').join('\n\n')}\n`;
}
