import { resolve } from 'node:path';
import { loadConfig } from '../config/index.js';
import { isUserError } from '../errors.js';
import { runGenerateCommand, imagineUsage, remixUsage, type CliIo } from './generate.js';
import { downloadModelUsage, runDownloadModelCommand } from './download-model-command.js';
import { botUsage, deployUsage, runBotCommand, runDeployCommand } from './bot-command.js';
import { infoUsage, runInfoCommand } from './info.js';
import { runTokenizeCommand, tokenizeUsage } from './tokenize.js';
import { runWorkerCommand, workerUsage } from './worker-command.js';

const usage = [
  'Usage:',
  `  ${imagineUsage}`,
  `  ${remixUsage}`,
  `  ${tokenizeUsage}`,
  `  ${infoUsage}`,
  `  ${botUsage}`,
  `  ${deployUsage}`,
  `  ${workerUsage}`,
  `  ${downloadModelUsage}`,
].join('\n');

/** Runs the command line; returns the process exit code (0 ok, 1 failure, 2 usage or user error). */
export async function runCli(
  argv: readonly string[],
  io: CliIo = { stdout: process.stdout, stderr: process.stderr, cwd: process.cwd() },
): Promise<number> {
  const [command, ...rest] = argv;
  try {
    if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
      io.stdout.write(`${usage}\n`);
      return command === undefined ? 2 : 0;
    }
    const config = loadConfig();
    switch (command) {
      case 'imagine':
      case 'remix':
        await runGenerateCommand(command, rest, config, io);
        return 0;
      case 'tokenize':
        await runTokenizeCommand(rest, config, io);
        return 0;
      case 'info':
        await runInfoCommand(rest, config, io);
        return 0;
      case 'bot':
        await runBotCommand(rest, config, io);
        return 0;
      case 'worker':
        await runWorkerCommand(rest, config, io);
        return 0;
      case 'deploy-commands':
        await runDeployCommand(rest, config, io);
        return 0;
      case 'download-model':
        await runDownloadModelCommand(rest, { stdout: io.stdout, stderr: io.stderr, dataDir: resolve(io.cwd, config.dataDir) });
        return 0;
      default:
        io.stderr.write(`Unknown command \`${command}\`.\n${usage}\n`);
        return 2;
    }
  } catch (error) {
    if (isUserError(error)) {
      io.stderr.write(`error: ${error.message}\n`);
      return 2;
    }
    io.stderr.write(`internal error: ${(error as Error).stack ?? String(error)}\n`);
    return 1;
  }
}
