// CLI group "pack": weft pack verify (check a downloaded region pack), weft pack create (write the pack the server
// sends for a region, for operators).
import type { Command } from 'commander';

const say = (line: string) => process.stdout.write(`${line}\n`);
const note = (line: string) => process.stderr.write(`${line}\n`);

export function registerPackCommands(program: Command): void {
  const pack = program
    .command('pack')
    .description(
      'region packs: one tar with a region’s prod archives, styles and manifests, for offline use',
    );

  pack
    .command('verify')
    .description(
      'check a region pack: the tar, pack.json, SHA256SUMS, every file’s size and sha256, the release ' +
        'manifest, every archive (as weft verify does) and the styles',
    )
    .argument('<file>', 'a .weftpack file')
    .action(async (file: string) => {
      const { verifyPack } = await import('../pipeline/packs/verify.js');
      const { problems, summary } = await verifyPack(file);
      if (problems.length) {
        for (const p of problems) process.stderr.write(`${file}: ${p}\n`);
        process.exitCode = 1;
      } else for (const line of summary) say(line);
    });

  pack
    .command('create')
    .description(
      'write the pack of a region’s prod release (or --release) from the blob store: the bytes the server ' +
        'sends for /regions/<id>/pack',
    )
    .requiredOption('-r, --region <id|path>', 'a region id (regions/<id>.json) or a path to a region file')
    .requiredOption('-o, --output <file>', 'the pack to write (e.g. <region>.weftpack)')
    .option('--release <id>', 'pack this release instead of the current prod release')
    .option('--styles <dir>', 'take the styles from this folder (default: the repository’s styles/)')
    .action(async (opts: { region: string; output: string; release?: string; styles?: string }) => {
      const { openBlobStore } = await import('../core/blob/open.js');
      const { createPack } = await import('../pipeline/packs/create.js');
      const blob = openBlobStore();
      try {
        const plan = await createPack({
          blob,
          region: opts.region,
          release: opts.release,
          stylesDir: opts.styles,
          output: opts.output,
          warn: note,
        });
        say(
          `wrote ${opts.output}: region ${plan.manifest.region}, release ${plan.manifest.release}, ` +
            `${plan.manifest.files.length + 2} entries, ${plan.size} bytes (ETag ${plan.etag})`,
        );
      } finally {
        await blob.close();
      }
    });
}
