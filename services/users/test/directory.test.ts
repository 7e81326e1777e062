import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { HttpProblem } from '@switchyard/kernel';
import { conformsToCatalog, startUsers, type UsersHarness } from './helpers.ts';

const HASH = '$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo';

describe('UserDirectory (what the auth service uses)', () => {
  let h: UsersHarness;
  before(async () => {
    h = await startUsers('users_directory');
  });
  after(() => h.close());

  it('creates a user with user.created in the outbox, and finds them by id and by email in any case', async () => {
    const account = await h.directory.create({
      name: 'Katherine Johnson',
      email: 'Katherine@NASA.example',
      passwordHash: HASH,
      role: 'member',
    });
    assert.deepEqual(account, {
      id: account.id,
      name: 'Katherine Johnson',
      email: 'katherine@nasa.example',
      role: 'member',
      status: 'active',
    });
    const events = await h.events(account.id);
    assert.deepEqual(
      events.map((event) => event.type),
      ['user.created'],
    );
    assert.ok(events[0] && conformsToCatalog(events[0]));
    assert.doesNotMatch(JSON.stringify(events[0]), /argon2/);

    assert.deepEqual(await h.directory.findById(account.id), account);
    assert.deepEqual(await h.directory.findByEmail('KATHERINE@nasa.example'), {
      ...account,
      passwordHash: HASH,
    });
  });

  it('answers undefined for an unknown email, an unknown id and an id that is not a UUID', async () => {
    assert.equal(await h.directory.findByEmail('nobody@example.com'), undefined);
    assert.equal(await h.directory.findById('01a204b0-8f10-727d-8a49-f7a461d9a4c6'), undefined);
    assert.equal(await h.directory.findById('42'), undefined);
  });

  it('refuses a taken email in another case with a 409 naming email, writing no event', async () => {
    const before = await h.eventCount();
    await assert.rejects(
      h.directory.create({ name: 'K', email: 'katherine@nasa.EXAMPLE', passwordHash: HASH, role: 'admin' }),
      (error: HttpProblem) =>
        error instanceof HttpProblem && error.status === 409 && error.problem.errors?.[0]?.field === 'email',
    );
    assert.equal(await h.eventCount(), before);
  });

  it('counts only active users of a role', async () => {
    const admin = await h.user('admin');
    const first = await h.user('operator');
    await h.user('operator');
    assert.equal(await h.directory.countByRole('operator'), 2);
    const disabled = await h.call(admin.token, 'PATCH', `/api/v1/users/${first.id}`, { status: 'disabled' });
    assert.equal(disabled.status, 200);
    assert.equal(await h.directory.countByRole('operator'), 1);
    assert.equal(await h.directory.countByRole('admin'), 1);
  });

  it('replaces the password hash without an event and without touching updated_at', async () => {
    const account = await h.user('member');
    const before = await h.events(account.id);
    const stamp = async () =>
      (await h.pool.query('SELECT updated_at FROM users.users WHERE id = $1', [account.id])).rows[0]
        .updated_at;
    const updatedAt = await stamp();
    await h.directory.setPasswordHash(account.id, `${HASH}x`);
    assert.equal((await h.directory.findByEmail(account.email))?.passwordHash, `${HASH}x`);
    assert.deepEqual(await h.events(account.id), before);
    assert.deepEqual(await stamp(), updatedAt);
  });

  it('refuses to set the password hash of a missing user with a 404', async () => {
    await assert.rejects(
      h.directory.setPasswordHash('01a204b0-8f10-727d-8a49-f7a461d9a4c6', HASH),
      (error: HttpProblem) => error.status === 404,
    );
  });
});
