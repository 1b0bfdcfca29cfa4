/**
 * codeBlockAfter returns the text of the first fenced code block after heading in markdown (a
 * README), so a test can hold the README to what the code prints. Throws if there is none.
 */
export function codeBlockAfter(markdown: string, heading: string): string {
  const at = markdown.indexOf(`\n${heading}\n`);
  if (at < 0) throw new Error(`no heading ${JSON.stringify(heading)}`);
  const match = /\n```[^\n]*\n([\s\S]*?)```/.exec(markdown.slice(at));
  if (match === null) throw new Error(`no code block after ${JSON.stringify(heading)}`);
  return match[1]!;
}
