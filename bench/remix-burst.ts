import sharp from 'sharp';
import type { ApiUser } from '../test/fake-discord/api-types.js';
import { startBotWorld } from '../test/bot/bot-world.js';
import type { BenchOptions } from './common.js';
import { peakRssMb, rssMb } from './proc-stats.js';
import { fixed, median, printTable } from './stats.js';

/** Remixes sent in the same instant, each by another user, each with its own 4096² picture. */
const burstSize = 32;
const side = 4096;
const sampleIntervalMs = 20;
/** Longest wait for one answer (a remix waits for up to 31 others on the tiny model). */
const answerTimeoutMs = 600_000;

/** A 4096² PNG that compresses well (so it is within the 25 MiB attachment limit) but decodes to 48 MiB of pixels. */
async function bigSource(): Promise<Buffer> {
  const rgb = Buffer.alloc(side * side * 3);
  for (let y = 0; y < side; y++) {
    for (let x = 0; x < side; x++) {
      const i = (y * side + x) * 3;
      rgb[i] = x >> 4;
      rgb[i + 1] = y >> 4;
      rgb[i + 2] = ((x ^ y) >> 6) & 0xff;
    }
  }
  return sharp(rgb, { raw: { width: side, height: side, channels: 3 } })
    .png({ compressionLevel: 9 })
    .toBuffer();
}

interface BurstRun {
  readonly idleMb: number;
  readonly peakMb: number;
  readonly taken: number;
  readonly refused: number;
  readonly delivered: number;
}

/**
 * `--sections remixburst`: the bot process's memory when 32 people remix a 4096² picture at the same moment (issue
 * 9 item 3: this took the bot from 125 MiB to 1.3 GiB when every picture was downloaded and decoded at once). One
 * fresh bot per run (its peak RSS, VmHWM, is per process); the remixes make 256×256 pictures on the tiny model, so
 * the pipeline's own memory does not count here — it runs in the pipeline process.
 */
export async function remixBurstSection(options: BenchOptions): Promise<void> {
  console.log(`\n## Remix burst: ${burstSize} remixes of ${side}² pictures at once — the bot process's RSS`);
  const source = await bigSource();
  console.log(`source PNG ${fixed(source.length / 2 ** 20)} MiB, ${fixed((side * side * 3) / 2 ** 20)} MiB as RGB pixels`);
  const runs: BurstRun[] = [];
  for (let run = 0; run < options.runs; run++) {
    const world = await startBotWorld({
      config: {
        queue: { maxLength: 250, jobTimeoutSeconds: 600 },
        guildDefaults: { userQueueLimit: 25, maxPixels: 65536 },
      },
    });
    try {
      const pid = world.bot.process.pid!;
      const users: ApiUser[] = [];
      for (let i = 0; i < burstSize; i++) {
        const user = world.discord.createUser({ username: `remixer${i}` });
        world.discord.addMember(world.guild.id, user.id);
        users.push(user);
      }
      const attachments = users.map(() => world.discord.uploadAttachment(source, 'big.png', 'image/png'));
      // Idle: connected, quiet for a moment.
      await new Promise((resolve) => setTimeout(resolve, 2000));
      const idleMb = rssMb(pid) ?? Number.NaN;
      let sampledPeak = idleMb;
      const sampler = setInterval(() => (sampledPeak = Math.max(sampledPeak, rssMb(pid) ?? 0)), sampleIntervalMs);
      const handles = users.map((user, i) =>
        world.discord.sendSlashCommand({
          user,
          channelId: world.channel.id,
          name: 'remix',
          options: { prompt: `burst ${i}`, seed: String(i), image: attachments[i]! },
        }),
      );
      const first = await Promise.all(handles.map((handle) => handle.waitForResponse({ timeoutMs: 60_000 })));
      const taken = handles.filter((_, i) => first[i]!.type === 5);
      const answers = await Promise.all(
        taken.map((handle) =>
          handle.waitForOriginal((m) => m.attachments.length > 0 || m.content.startsWith('❌'), { timeoutMs: answerTimeoutMs }),
        ),
      );
      clearInterval(sampler);
      const peakMb = Math.max(sampledPeak, peakRssMb(pid) ?? 0);
      const result: BurstRun = {
        idleMb,
        peakMb,
        taken: taken.length,
        refused: first.filter((response) => response.type === 4).length,
        delivered: answers.filter((m) => m.attachments.length > 0).length,
      };
      runs.push(result);
      console.log(
        `run ${run + 1}: idle ${fixed(idleMb)} MiB, peak ${fixed(peakMb)} MiB; ${result.taken} taken ` +
          `(${result.delivered} delivered), ${result.refused} refused as busy`,
      );
    } finally {
      await world.close();
    }
  }
  printTable(
    ['figure', 'median', 'runs'],
    [
      ['bot RSS before the burst (MiB)', fixed(median(runs.map((r) => r.idleMb))), runs.map((r) => fixed(r.idleMb)).join(' ')],
      ['bot peak RSS, VmHWM (MiB)', fixed(median(runs.map((r) => r.peakMb))), runs.map((r) => fixed(r.peakMb)).join(' ')],
      ['remixes taken / refused', `${median(runs.map((r) => r.taken))} / ${median(runs.map((r) => r.refused))}`, ''],
    ],
  );
}
