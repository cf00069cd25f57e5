/**
 * Child-process tests need plain JavaScript, and `dist/` may be stale or missing when vitest runs
 * alone. This transpiles one entry file and the relative imports it reaches (only those: a
 * half-written module elsewhere in the tree cannot break the suite) into a folder inside the repo,
 * so that bare imports still resolve from the repo's node_modules.
 */
import fs from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

const REPO = path.resolve(import.meta.dirname, '..', '..', '..');
const IMPORT = /(?:from\s*|import\s*\(\s*|import\s+)['"](\.{1,2}\/[^'"]+)['"]/g;

export interface Compiled {
  /** Absolute path of the entry's .js file. */
  readonly entry: string;
  remove(): void;
}

export function compileForChild(entryTs: string): Compiled {
  const outRoot = fs.mkdtempSync(path.join(REPO, '.vitest-build-'));
  const queue = [path.resolve(entryTs)];
  const done = new Set<string>();
  while (queue.length > 0) {
    const file = queue.pop()!;
    if (done.has(file)) continue;
    done.add(file);
    const source = fs.readFileSync(file, 'utf8');
    const { outputText } = ts.transpileModule(source, {
      fileName: file,
      compilerOptions: {
        module: ts.ModuleKind.ESNext,
        moduleResolution: ts.ModuleResolutionKind.Bundler,
        target: ts.ScriptTarget.ES2023,
        verbatimModuleSyntax: true,
      },
    });
    const out = path.join(outRoot, path.relative(REPO, file)).replace(/\.ts$/, '.js');
    fs.mkdirSync(path.dirname(out), { recursive: true });
    fs.writeFileSync(out, outputText);
    for (const m of outputText.matchAll(IMPORT)) {
      const spec = m[1]!;
      queue.push(path.resolve(path.dirname(file), spec.replace(/\.js$/, '.ts')));
    }
  }
  return {
    entry: path.join(outRoot, path.relative(REPO, path.resolve(entryTs))).replace(/\.ts$/, '.js'),
    remove: () => fs.rmSync(outRoot, { recursive: true, force: true }),
  };
}
