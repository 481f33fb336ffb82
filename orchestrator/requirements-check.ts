/**
 * Why a submission's requirements.txt is refused, or undefined when every line is a plain package
 * requirement (`name[extras] specifiers ; markers`). Options (`-e`, `-r`, `-c`, `-f`, `--index-url`,
 * `--extra-index-url`, `--trusted-host` ...), local paths and URLs would let a stranger's build read
 * files of this machine or fetch code from anywhere; the operator can allow them explicitly.
 */
export function refusedRequirement(requirements: string): string | undefined {
  const lines = requirements.split(/\r?\n/);
  for (const [index, raw] of lines.entries()) {
    const line = raw.replace(/(^|\s)#.*$/, '').trim();
    if (line === '') continue;
    const why = refusal(line);
    if (why) {
      const shown = line.length > 80 ? `${line.slice(0, 80)}…` : line;
      return `line ${index + 1} ("${shown}") ${why}; only package requirements such as "numpy>=2" are accepted (the operator can allow more with --allow-requirement-options)`;
    }
  }
  return undefined;
}

// PEP 508 name with optional extras, then version specifiers and an optional environment marker.
const PACKAGE =
  /^[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?\s*(\[[A-Za-z0-9._,\s-]*\])?\s*([<>=!~,.*+A-Za-z0-9\s-]*)(;.*)?$/;

function refusal(line: string): string | undefined {
  if (line.startsWith('-')) return 'is a pip option';
  if (/^[./~]/.test(line) || line.includes('\\')) return 'is a local path';
  if (/[a-z][a-z0-9+.-]*:\/\//i.test(line) || line.includes('@')) return 'is a URL or a direct reference';
  const match = PACKAGE.exec(line);
  if (!match) return 'is not a package requirement';
  const specifiers = match[3] ?? '';
  // Specifiers are version clauses only: "a b" would be two names on one line.
  if (specifiers.trim() !== '' && !/^[<>=!~]/.test(specifiers.trim())) return 'is not a package requirement';
  return undefined;
}
