import type { CommandModule } from '../src/bot/command-module.js';
import { history } from './history.js';
import { imagine } from './imagine.js';
import { queue } from './queue.js';
import { remixMessage } from './remix-message.js';
import { remix } from './remix.js';
import { settings } from './settings.js';

/** Every command the bot registers and handles. */
export const commandModules: readonly CommandModule[] = [imagine, remix, remixMessage, settings, queue, history];
