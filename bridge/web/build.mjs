// Builds the dashboard into one directory (argument 1, default ./dist): index.html and the
// content-hashed bundles under assets/. Run by CMake at build time (`npm run build -- DIR`).
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import * as esbuild from 'esbuild';

const here = path.dirname(fileURLToPath(import.meta.url));
const outdir = path.resolve(process.argv[2] ?? path.join(here, 'dist'));

await rm(outdir, { recursive: true, force: true });
await mkdir(path.join(outdir, 'assets'), { recursive: true });

const result = await esbuild.build({
  absWorkingDir: here,
  entryPoints: ['src/main.ts'],
  bundle: true,
  minify: true,
  format: 'iife',
  target: 'es2020',
  // Hashed names: the server can let browsers cache them for good (index.html is revalidated).
  entryNames: '[name]-[hash]',
  outdir: path.join(outdir, 'assets'),
  metafile: true,
  legalComments: 'eof',
  logLevel: 'warning',
});

// The entry's JavaScript and the CSS bundled from its imports.
let script = '';
let style = '';
for (const [file, output] of Object.entries(result.metafile.outputs)) {
  if (output.entryPoint !== 'src/main.ts') {
    continue;
  }
  const relative = path.relative(outdir, path.resolve(here, file)).split(path.sep).join('/');
  if (file.endsWith('.js')) {
    script = relative;
  }
  if (output.cssBundle) {
    style = path.relative(outdir, path.resolve(here, output.cssBundle)).split(path.sep).join('/');
  }
}
if (script === '' || style === '') {
  throw new Error(`esbuild produced no script or no stylesheet: ${Object.keys(result.metafile.outputs)}`);
}

const template = await readFile(path.join(here, 'index.html'), 'utf8');
const html = template.replace('%SCRIPT%', script).replace('%STYLE%', style);
await writeFile(path.join(outdir, 'index.html'), html);
console.log(`dashboard: ${outdir} (${script}, ${style})`);
