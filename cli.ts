#!/usr/bin/env node
/** The `latentcord` executable: `node dist/cli.js <command>`. */
import { runCli } from './src/cli/main.js';

process.exitCode = await runCli(process.argv.slice(2));
