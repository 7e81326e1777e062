import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import manifest from '../package.json' with { type: 'json' };
import { runCli } from './process.ts';

describe('switchyard CLI', () => {
  it('prints its version and help', async () => {
    const version = await runCli(['--version']);
    assert.equal(version.code, 0);
    assert.equal(version.stdout.trim(), manifest.version);
    const help = await runCli(['--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /Usage: switchyard <command>/);
    assert.match(help.stdout, /--services/);
  });

  it('exits 2 with usage for no command or an unknown one', async () => {
    const none = await runCli([]);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /Usage:/);
    const unknown = await runCli(['launch']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown command "launch"/);
    const badFlag = await runCli(['start', '--colour']);
    assert.equal(badFlag.code, 2);
  });

  it('exits 2 with one line naming the variable for each bad configuration value', async () => {
    const cases: [Record<string, string>, string[], RegExp][] = [
      [{ PORT: 'eighty' }, [], /^switchyard: PORT: expected a whole number from 0 to 65535, got "eighty"$/],
      [{ PORT: '70000' }, [], /^switchyard: PORT: /],
      [
        { SWITCHYARD_BUS: 'carrier-pigeon' },
        [],
        /^switchyard: SWITCHYARD_BUS: expected one of postgres, kafka, rabbitmq/,
      ],
      [{ SWITCHYARD_BUS: 'kafka' }, [], /^switchyard: KAFKA_BROKERS: expected a comma list of host:port/],
      [{ SWITCHYARD_BUS: 'kafka', KAFKA_BROKERS: 'localhost' }, [], /^switchyard: KAFKA_BROKERS: /],
      [{ SWITCHYARD_BUS: 'rabbitmq' }, [], /^switchyard: AMQP_URL: expected an amqp:\/\/ or amqps:\/\/ URL/],
      [{ SWITCHYARD_BUS: 'rabbitmq', AMQP_URL: 'http://x' }, [], /^switchyard: AMQP_URL: /],
      [{ DATABASE_URL: 'mysql://localhost/x' }, [], /^switchyard: DATABASE_URL: expected a postgres:\/\//],
      [{ DATABASE_URL: 'not a url' }, [], /^switchyard: DATABASE_URL: /],
      [
        { SWITCHYARD_SERVICES: 'tasks,billing' },
        [],
        /^switchyard: SWITCHYARD_SERVICES: expected a comma list of tasks, audit/,
      ],
      [{}, ['--services', 'nope'], /^switchyard: --services: /],
      [{ NODE_ENV: 'staging' }, [], /^switchyard: NODE_ENV: expected one of development, production, test/],
      [{ LOG_LEVEL: 'loud' }, [], /^switchyard: LOG_LEVEL: /],
    ];
    for (const [env, flags, expected] of cases) {
      const result = await runCli(['start', ...flags], { DATABASE_URL: '', ...env });
      assert.equal(result.code, 2, JSON.stringify(env));
      const lines = result.stderr.trim().split('\n');
      assert.equal(lines.length, 1, result.stderr);
      assert.match(lines[0] ?? '', expected);
    }
  });
});
