import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  ConfigError,
  configForLog,
  envVariables,
  leafPaths,
  loadConfig,
  packageDefaultsFile,
  type Config,
} from '../../src/config/index.js';
import { isUserError } from '../../src/errors.js';
import { settingKeys } from '../../src/settings/index.js';

let cwd: string;

before(() => {
  cwd = mkdtempSync(join(tmpdir(), 'latentcord-config-'));
  mkdirSync(join(cwd, 'config'));
});

after(() => {
  rmSync(cwd, { recursive: true, force: true });
});

function writeConfig(name: string, content: unknown): string {
  const file = join(cwd, 'config', name);
  writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content));
  return `config/${name}`;
}

function at(config: Config, path: string): unknown {
  return path.split('.').reduce<unknown>((node, key) => (node as Record<string, unknown>)[key], config);
}

function load(env: Record<string, string> = {}, extra: { configFile?: string | null; defaultsFile?: string } = {}): Config {
  return loadConfig({ env, cwd, onWarning: () => {}, ...extra });
}

function problemsOf(run: () => unknown): string[] {
  try {
    run();
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
    assert.ok(isUserError(error));
    assert.equal(error.identifier, 'config.invalid');
    return error.problems.map((problem) => problem.message);
  }
  assert.fail('expected a ConfigError');
}

describe('loadConfig: defaults', () => {
  it('loads config/default.json as is, with paths resolved against the working folder', () => {
    const raw = JSON.parse(readFileSync(packageDefaultsFile(), 'utf8')) as Record<string, unknown>;
    const config = load();
    assert.deepEqual({ ...config, dataDir: raw.dataDir }, raw);
    assert.equal(config.dataDir, join(cwd, 'data'));
  });

  it('has a value for every key of the schema and every per-server setting', () => {
    const config = load();
    for (const path of leafPaths()) assert.notEqual(at(config, path), undefined, path);
    assert.deepEqual(Object.keys(config.guildDefaults), [...settingKeys]);
  });

  it('is deeply frozen', () => {
    const config = load();
    assert.ok(Object.isFrozen(config));
    assert.ok(Object.isFrozen(config.discord));
    assert.ok(Object.isFrozen(config.discord.attachmentHosts));
    assert.ok(Object.isFrozen(config.guildDefaults.bannedWords));
    assert.throws(() => {
      (config.queue as { maxLength: number }).maxLength = 1;
    }, TypeError);
  });

  it('reports keys missing from a defaults file', () => {
    const raw = JSON.parse(readFileSync(packageDefaultsFile(), 'utf8')) as { queue: Record<string, unknown> };
    delete raw.queue.jobTimeoutSeconds;
    const file = writeConfig('incomplete-defaults.json', raw);
    assert.deepEqual(
      problemsOf(() => load({}, { defaultsFile: file })),
      [`${file}: \`queue.jobTimeoutSeconds\` is missing`],
    );
  });

  it('redacts the token for logs', () => {
    const config = load({ DISCORD_TOKEN: 'secret-token' });
    assert.equal(config.discord.token, 'secret-token');
    assert.equal(configForLog(config).discord.token, '[redacted]');
    assert.equal(configForLog(load()).discord.token, null);
  });
});

describe('loadConfig: environment variables', () => {
  const overrides: ReadonlyArray<readonly [string, string, string, unknown]> = [
    ['DISCORD_TOKEN', ' abc.def ', 'discord.token', 'abc.def'],
    ['DISCORD_API_URL', 'http://127.0.0.1:8080/api/', 'discord.apiUrl', 'http://127.0.0.1:8080/api'],
    [
      'LATENTCORD_ATTACHMENT_HOSTS',
      '127.0.0.1:8080, CDN.Example.com,,[::1]:3000',
      'discord.attachmentHosts',
      ['127.0.0.1:8080', 'cdn.example.com', '[::1]:3000'],
    ],
    ['LATENTCORD_MESSAGE_CONTENT_INTENT', 'true', 'discord.messageContentIntent', true],
    ['LATENTCORD_MODEL_DIR', 'models/sd15', 'modelDir', '<cwd>/models/sd15'],
    ['LATENTCORD_MODEL_REPO', 'someone/some-model', 'defaultModel.repo', 'someone/some-model'],
    ['LATENTCORD_MODEL_REVISION', 'fp16', 'defaultModel.revision', 'fp16'],
    ['LATENTCORD_DATA_DIR', '/var/lib/latentcord', 'dataDir', '/var/lib/latentcord'],
    ['LATENTCORD_DEVICE', 'cuda', 'device', 'cuda'],
    ['LATENTCORD_DEVICE_ID', '1', 'deviceId', 1],
    ['LATENTCORD_ON_DEVICE_UNAVAILABLE', 'fail', 'onDeviceUnavailable', 'fail'],
    ['LATENTCORD_THREADS', '2', 'runtime.intraOpThreads', 2],
    ['LATENTCORD_QUEUE_MAX_LENGTH', '5', 'queue.maxLength', 5],
    ['LATENTCORD_JOB_TIMEOUT_SECONDS', '60', 'queue.jobTimeoutSeconds', 60],
    ['LATENTCORD_JOB_RETENTION_DAYS', '7', 'jobs.retentionDays', 7],
    ['LATENTCORD_LOG_LEVEL', 'debug', 'logging.level', 'debug'],
    ['LATENTCORD_LOG_PRETTY', 'false', 'logging.pretty', false],
    ['LATENTCORD_HTTP_PORT', '9000', 'http.port', 9000],
    ['LATENTCORD_HTTP_HOST', '0.0.0.0', 'http.host', '0.0.0.0'],
    ['LATENTCORD_HTTP_ENABLED', 'on', 'http.enabled', true],
    ['LATENTCORD_RNG', 'philox', 'rng', 'philox'],
    ['LATENTCORD_DISCORD_DEPLOY_COMMANDS_ON_START', 'false', 'discord.deployCommandsOnStart', false],
    ['LATENTCORD_MODEL_DEFAULTS', 'config', 'modelDefaults', 'config'],
    ['LATENTCORD_RUNTIME_GRAPH_OPTIMIZATION_LEVEL', 'basic', 'runtime.graphOptimizationLevel', 'basic'],
    ['LATENTCORD_RUNTIME_CACHE_OPTIMIZED_MODELS', 'no', 'runtime.cacheOptimizedModels', false],
    ['LATENTCORD_RUNTIME_WARM_UP', 'off', 'runtime.warmUp', false],
    ['LATENTCORD_FINAL_DECODER', 'tiny', 'runtime.finalDecoder', 'tiny'],
    ['LATENTCORD_TINY_DECODER_DIR', 'taesd', 'runtime.tinyDecoderDir', '<cwd>/taesd'],
    ['LATENTCORD_RUNTIME_VAE_TILING', 'always', 'runtime.vaeTiling', 'always'],
    ['LATENTCORD_RUNTIME_MAX_UNET_BATCH', '2', 'runtime.maxUnetBatch', 2],
    ['LATENTCORD_QUEUE_MAX_BATCH_IMAGES', '1', 'queue.maxBatchImages', 1],
    ['LATENTCORD_PROGRESS_EDIT_INTERVAL_MS', '500', 'progress.editIntervalMs', 500],
    ['LATENTCORD_LIMITS_MAX_ATTACHMENT_BYTES', '1048576', 'limits.maxAttachmentBytes', 1048576],
    ['LATENTCORD_LIMITS_MAX_SOURCE_PIXELS', '1048576', 'limits.maxSourcePixels', 1048576],
    ['LATENTCORD_LIMITS_DOWNLOAD_TIMEOUT_MS', '5000', 'limits.downloadTimeoutMs', 5000],
    ['LATENTCORD_LIMITS_MAX_CONCURRENT_DOWNLOADS', '8', 'limits.maxConcurrentDownloads', 8],
    ['LATENTCORD_SHUTDOWN_GRACE_SECONDS', '5', 'shutdown.graceSeconds', 5],
    ['LATENTCORD_GUILD_DEFAULTS_STEPS', '20', 'guildDefaults.steps', 20],
    ['LATENTCORD_GUILD_DEFAULTS_GUIDANCE', '5.5', 'guildDefaults.guidance', 5.5],
    ['LATENTCORD_GUILD_DEFAULTS_WIDTH', '640', 'guildDefaults.width', 640],
    ['LATENTCORD_GUILD_DEFAULTS_HEIGHT', '384', 'guildDefaults.height', 384],
    ['LATENTCORD_GUILD_DEFAULTS_SCHEDULER', 'euler-a', 'guildDefaults.scheduler', 'euler-a'],
    ['LATENTCORD_GUILD_DEFAULTS_STRENGTH', '0.5', 'guildDefaults.strength', 0.5],
    ['LATENTCORD_GUILD_DEFAULTS_NEGATIVE_PREFIX', 'blurry, lowres', 'guildDefaults.negativePrefix', 'blurry, lowres'],
    ['LATENTCORD_GUILD_DEFAULTS_EMPHASIS', 'no-norm', 'guildDefaults.emphasis', 'no-norm'],
    ['LATENTCORD_GUILD_DEFAULTS_MAX_STEPS', '60', 'guildDefaults.maxSteps', 60],
    ['LATENTCORD_GUILD_DEFAULTS_MAX_PIXELS', '1048576', 'guildDefaults.maxPixels', 1048576],
    ['LATENTCORD_GUILD_DEFAULTS_MAX_COUNT', '2', 'guildDefaults.maxCount', 2],
    ['LATENTCORD_GUILD_DEFAULTS_MAX_PROMPT_TOKENS', '150', 'guildDefaults.maxPromptTokens', 150],
    ['LATENTCORD_GUILD_DEFAULTS_USER_QUEUE_LIMIT', '5', 'guildDefaults.userQueueLimit', 5],
    ['LATENTCORD_GUILD_DEFAULTS_COOLDOWN_SECONDS', '10', 'guildDefaults.cooldownSeconds', 10],
    [
      'LATENTCORD_GUILD_DEFAULTS_ALLOWED_CHANNELS',
      '123456789012345678, 223456789012345678',
      'guildDefaults.allowedChannels',
      ['123456789012345678', '223456789012345678'],
    ],
    ['LATENTCORD_GUILD_DEFAULTS_BANNED_WORDS', 'gore, sea serpent', 'guildDefaults.bannedWords', ['gore', 'sea serpent']],
    ['LATENTCORD_GUILD_DEFAULTS_ALLOW_DMS', 'yes', 'guildDefaults.allowDMs', true],
    ['LATENTCORD_GUILD_DEFAULTS_PREVIEW_EVERY_STEPS', '5', 'guildDefaults.previewEverySteps', 5],
    ['LATENTCORD_GUILD_DEFAULTS_VARY_SUBTLE_STRENGTH', '0.3', 'guildDefaults.varySubtleStrength', 0.3],
    ['LATENTCORD_GUILD_DEFAULTS_VARY_STRONG_STRENGTH', '0.8', 'guildDefaults.varyStrongStrength', 0.8],
    ['LATENTCORD_GUILD_DEFAULTS_UPSCALE', 'off', 'guildDefaults.upscale', 'off'],
    ['LATENTCORD_UPSCALE_HIRES_STRENGTH', '0.5', 'upscale.hiresStrength', 0.5],
    ['LATENTCORD_GUILD_DEFAULTS_NSFW', 'spoiler', 'guildDefaults.nsfw', 'spoiler'],
    ['LATENTCORD_GUILD_DEFAULTS_NSFW_AGE_RESTRICTED', 'show', 'guildDefaults.nsfwAgeRestricted', 'show'],
    ['LATENTCORD_GUILD_DEFAULTS_REQUIRE_AGE_RESTRICTED_CHANNEL', 'on', 'guildDefaults.requireAgeRestrictedChannel', true],
    ['LATENTCORD_DEVICE_IDS', '0, 1,3', 'deviceIds', [0, 1, 3]],
    ['LATENTCORD_REDIS_URL', 'rediss://:secret@redis.example:6380/2', 'scale.redisUrl', 'rediss://:secret@redis.example:6380/2'],
    ['LATENTCORD_REDIS_PREFIX', 'bot-b', 'scale.prefix', 'bot-b'],
    ['LATENTCORD_WORKER_NAME', 'gpu-box-1', 'scale.workerName', 'gpu-box-1'],
    ['LATENTCORD_SCALE_HEARTBEAT_SECONDS', '2', 'scale.heartbeatSeconds', 2],
    ['LATENTCORD_SCALE_LOCK_SECONDS', '60', 'scale.lockSeconds', 60],
    ['LATENTCORD_SCALE_STALLED_CHECK_SECONDS', '10', 'scale.stalledCheckSeconds', 10],
    ['LATENTCORD_SCALE_LOST_JOB_GRACE_SECONDS', '300', 'scale.lostJobGraceSeconds', 300],
    ['LATENTCORD_SCALE_RESULT_TTL_SECONDS', '3600', 'scale.resultTtlSeconds', 3600],
  ];

  it('has a test for every variable', () => {
    assert.deepEqual(overrides.map(([name]) => name).sort(), envVariables.map((variable) => variable.name).sort());
  });

  for (const [name, text, path, expected] of overrides) {
    it(`${name} sets ${path}`, () => {
      const want = typeof expected === 'string' ? expected.replace('<cwd>', cwd) : expected;
      assert.notDeepEqual(at(load(), path), want, 'the test value must differ from the default');
      assert.deepEqual(at(load({ [name]: text }), path), want);
    });
  }

  it('LATENTCORD_HTTP_PORT also enables the endpoint, unless LATENTCORD_HTTP_ENABLED says otherwise', () => {
    assert.equal(load().http.enabled, false);
    assert.equal(load({ LATENTCORD_HTTP_PORT: '9000' }).http.enabled, true);
    assert.equal(load({ LATENTCORD_HTTP_PORT: '9000', LATENTCORD_HTTP_ENABLED: 'false' }).http.enabled, false);
  });

  it('ignores empty variables', () => {
    assert.deepEqual(load({ DISCORD_TOKEN: '', LATENTCORD_DEVICE: '  ' }), load());
  });

  it('names the variable, the key, the expectation and the text in errors', () => {
    assert.deepEqual(
      problemsOf(() => load({ LATENTCORD_QUEUE_MAX_LENGTH: '-1' })),
      ['environment variable LATENTCORD_QUEUE_MAX_LENGTH: `queue.maxLength` must be an integer from 1 to 1000, got `-1`'],
    );
    assert.deepEqual(
      problemsOf(() => load({ LATENTCORD_DEVICE: 'gpu' })),
      ['environment variable LATENTCORD_DEVICE: `device` must be one of `cpu`, `cuda`, got `gpu`'],
    );
    assert.deepEqual(
      problemsOf(() => load({ LATENTCORD_HTTP_PORT: 'abc' })),
      ['environment variable LATENTCORD_HTTP_PORT: `http.port` must be an integer from 0 to 65535, got `abc`'],
    );
    assert.deepEqual(
      problemsOf(() => load({ LATENTCORD_MESSAGE_CONTENT_INTENT: 'sometimes' })),
      ['environment variable LATENTCORD_MESSAGE_CONTENT_INTENT: `discord.messageContentIntent` must be `true` or `false`, got `sometimes`'],
    );
    assert.deepEqual(
      problemsOf(() => load({ DISCORD_API_URL: 'discord.com/api' })),
      [
        'environment variable DISCORD_API_URL: `discord.apiUrl` must be an http:// or https:// URL without query or fragment, got ' +
          '`discord.com/api`',
      ],
    );
    assert.deepEqual(
      problemsOf(() => load({ LATENTCORD_ATTACHMENT_HOSTS: 'cdn.discordapp.com, https://evil.example' })),
      [
        'environment variable LATENTCORD_ATTACHMENT_HOSTS: `discord.attachmentHosts` must be a list of host names, each `host` or ' +
          '`host:port`, got `cdn.discordapp.com, https://evil.example`',
      ],
    );
  });

  it('warns about unknown LATENTCORD_ variables with a suggestion, without failing', () => {
    const warnings: string[] = [];
    loadConfig({
      env: { LATENTCORD_DEVCE: 'cuda', LATENTCORD_SOMETHING_ELSE: 'x', OTHER: 'y' },
      cwd,
      onWarning: (message) => warnings.push(message),
    });
    assert.deepEqual(warnings, [
      'Unknown environment variable LATENTCORD_DEVCE ignored — did you mean LATENTCORD_DEVICE?',
      'Unknown environment variable LATENTCORD_SOMETHING_ELSE ignored',
    ]);
  });
});

describe('loadConfig: user file', () => {
  it('merges a partial file over the defaults; lists replace', () => {
    const file = writeConfig('merge.json', {
      queue: { maxLength: 3 },
      discord: { attachmentHosts: ['localhost:1234'] },
      guildDefaults: { bannedWords: ['gore'] },
    });
    const config = load({}, { configFile: file });
    assert.equal(config.queue.maxLength, 3);
    assert.equal(config.queue.jobTimeoutSeconds, load().queue.jobTimeoutSeconds);
    assert.deepEqual(config.discord.attachmentHosts, ['localhost:1234']);
    assert.deepEqual(config.guildDefaults.bannedWords, ['gore']);
    assert.equal(config.guildDefaults.steps, load().guildDefaults.steps);
  });

  it('is found through LATENTCORD_CONFIG; the configFile option wins, null turns it off', () => {
    const fromEnv = writeConfig('env-file.json', { queue: { maxLength: 7 } });
    const fromOption = writeConfig('option-file.json', { queue: { maxLength: 8 } });
    assert.equal(load({ LATENTCORD_CONFIG: fromEnv }).queue.maxLength, 7);
    assert.equal(load({ LATENTCORD_CONFIG: fromEnv }, { configFile: fromOption }).queue.maxLength, 8);
    assert.equal(load({ LATENTCORD_CONFIG: fromEnv }, { configFile: null }).queue.maxLength, load().queue.maxLength);
  });

  it('is overridden by environment variables', () => {
    const file = writeConfig('precedence.json', { queue: { maxLength: 3 }, device: 'cuda' });
    const config = load({ LATENTCORD_QUEUE_MAX_LENGTH: '4' }, { configFile: file });
    assert.equal(config.queue.maxLength, 4);
    assert.equal(config.device, 'cuda');
  });

  it('resolves relative paths against the working folder, not the file', () => {
    const file = writeConfig('paths.json', { dataDir: 'state', modelDir: '../models/x' });
    const config = load({}, { configFile: file });
    assert.equal(config.dataDir, join(cwd, 'state'));
    assert.equal(config.modelDir, join(cwd, '..', 'models', 'x'));
  });

  it('names the file, the key, the expectation and the value of a bad value', () => {
    const file = writeConfig('local.json', { queue: { maxLength: -1 } });
    assert.equal(file, 'config/local.json');
    assert.deepEqual(
      problemsOf(() => load({}, { configFile: file })),
      ['config/local.json: `queue.maxLength` must be an integer from 1 to 1000, got `-1`'],
    );
    assert.deepEqual(
      problemsOf(() => load({ LATENTCORD_CONFIG: file })),
      ['config/local.json (from LATENTCORD_CONFIG): `queue.maxLength` must be an integer from 1 to 1000, got `-1`'],
    );
  });

  it('checks values of every kind', () => {
    const file = writeConfig('kinds.json', {
      discord: { token: '', messageContentIntent: 'yes' },
      modelDir: 5,
      defaultModel: { repo: 'not a repo' },
      logging: { level: 'verbose', pretty: 'sometimes' },
      runtime: { graphOptimizationLevel: 'max' },
      guildDefaults: { width: 500, scheduler: 'heun' },
    });
    assert.deepEqual(
      problemsOf(() => load({}, { configFile: file })),
      [
        'config/kinds.json: `discord.token` must be a non-empty token or `null` (not configured), got `""`',
        'config/kinds.json: `discord.messageContentIntent` must be `true` or `false`, got `"yes"`',
        'config/kinds.json: `modelDir` must be a non-empty path or `null` (use the default model), got `5`',
        'config/kinds.json: `defaultModel.repo` must be a Hugging Face repository `owner/name` (or "" until one is chosen), got `"not ' +
          'a repo"`',
        'config/kinds.json: `runtime.graphOptimizationLevel` must be one of `disabled`, `basic`, `extended`, `all`, got `"max"`',
        'config/kinds.json: `logging.level` must be one of `fatal`, `error`, `warn`, `info`, `debug`, `trace`, `silent`, got `"verbose"`',
        'config/kinds.json: `logging.pretty` must be `"auto"`, `true` or `false`, got `"sometimes"`',
        'config/kinds.json: `guildDefaults.width` must be a multiple of 8 from 64 to 2048, got `500`',
        'config/kinds.json: `guildDefaults.scheduler` must be one of `euler`, `euler-a`, `ddim`, `dpmpp-2m`, `dpmpp-2m-karras`, `lcm`, ' +
          '`pndm`, `lms`, `unipc`, `ddpm`, got `"heun"`',
      ],
    );
  });

  it('rejects unknown keys with a did-you-mean suggestion', () => {
    const file = writeConfig('typos.json', {
      queue: { maxLenght: 3 },
      maxLength: 3,
      guildDefaults: { maxWidth: 1024, stpes: 3 },
      colour: 'blue',
    });
    assert.deepEqual(
      problemsOf(() => load({}, { configFile: file })),
      [
        'config/typos.json: unknown key `queue.maxLenght` — did you mean `queue.maxLength`?',
        'config/typos.json: unknown key `maxLength` — did you mean `queue.maxLength`?',
        'config/typos.json: unknown key `guildDefaults.maxWidth` — did you mean `guildDefaults.maxPixels`?',
        'config/typos.json: unknown key `guildDefaults.stpes` — did you mean `guildDefaults.steps`?',
        'config/typos.json: unknown key `colour`',
      ],
    );
  });

  it('allows a $schema key', () => {
    const file = writeConfig('schema.json', { $schema: './schema.json', queue: { maxLength: 2 } });
    assert.equal(load({}, { configFile: file }).queue.maxLength, 2);
  });

  it('refuses an object key given a plain value', () => {
    const file = writeConfig('shape.json', { queue: 5 });
    assert.deepEqual(
      problemsOf(() => load({}, { configFile: file })),
      ['config/shape.json: `queue` must be an object, got `5`'],
    );
  });

  it('refuses a per-server default above its limit, naming the source of the change', () => {
    const file = writeConfig('conflict.json', { guildDefaults: { steps: 60 } });
    assert.deepEqual(
      problemsOf(() => load({}, { configFile: file })),
      ['config/conflict.json: `guildDefaults.steps` (60) may not exceed `guildDefaults.maxSteps` (50).'],
    );
  });

  it('reports unreadable files and bad JSON', () => {
    assert.deepEqual(
      problemsOf(() => load({}, { configFile: 'config/missing.json' })),
      [`config/missing.json: file not found (${join(cwd, 'config', 'missing.json')})`],
    );
    const broken = writeConfig('broken.json', '{ "queue": { "maxLength": 3, } }');
    const [message] = problemsOf(() => load({}, { configFile: broken }));
    assert.match(message!, /^config\/broken\.json: not valid JSON: /u);
    const array = writeConfig('array.json', '[1, 2]');
    assert.deepEqual(
      problemsOf(() => load({}, { configFile: array })),
      ['config/array.json: must contain a JSON object, got `[1,2]`'],
    );
  });

  it('reports every problem of every source at once', () => {
    const file = writeConfig('many.json', { queue: { maxLength: 0 }, device: 'tpu' });
    const error = (() => {
      try {
        load({ LATENTCORD_HTTP_PORT: '70000' }, { configFile: file });
      } catch (caught) {
        return caught as ConfigError;
      }
      assert.fail('expected a ConfigError');
    })();
    assert.deepEqual(
      error.problems.map((problem) => [problem.source, problem.path]),
      [
        ['config/many.json', 'device'],
        ['config/many.json', 'queue.maxLength'],
        ['environment variable LATENTCORD_HTTP_PORT', 'http.port'],
      ],
    );
    assert.match(error.message, /^The configuration has 3 problems:\n- config\/many\.json: `device` must be one of/u);
  });
});
