import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import ts from 'typescript';

export interface ImportOf {
  /** As written: './queues.js', '@temporalio/workflow', 'node:fs'. */
  specifier: string;
  /** `import type` / `export type`: erased, nothing loaded at run time. */
  typeOnly: boolean;
}

/** Every import and re-export of a TypeScript file. */
export function importsOf(file: string): ImportOf[] {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.ES2022, false);
  const found: ImportOf[] = [];
  for (const statement of source.statements) {
    if (ts.isImportDeclaration(statement) && ts.isStringLiteral(statement.moduleSpecifier)) {
      found.push({ specifier: statement.moduleSpecifier.text, typeOnly: statement.importClause?.isTypeOnly === true });
    } else if (
      ts.isExportDeclaration(statement) &&
      statement.moduleSpecifier &&
      ts.isStringLiteral(statement.moduleSpecifier)
    ) {
      found.push({ specifier: statement.moduleSpecifier.text, typeOnly: statement.isTypeOnly });
    }
  }
  return found;
}

/** The .ts file a relative specifier names (the sources import './x.js' for './x.ts'). */
export function resolveRelative(from: string, specifier: string): string {
  return resolve(dirname(from), specifier.replace(/\.js$/, '.ts'));
}

/** Every file loaded at run time from `entry` through relative value imports, with the bare packages each loads. */
export function runtimeClosure(entry: string): Map<string, string[]> {
  const seen = new Map<string, string[]>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    const packages: string[] = [];
    seen.set(file, packages);
    for (const { specifier, typeOnly } of importsOf(file)) {
      if (typeOnly) continue;
      if (specifier.startsWith('.')) visit(resolveRelative(file, specifier));
      else packages.push(specifier);
    }
  };
  visit(resolve(entry));
  return seen;
}
