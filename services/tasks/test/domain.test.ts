import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Task } from '@switchyard/contracts';
import { HttpProblem } from '@switchyard/kernel';
import {
  applyPatch,
  decodeCursor,
  encodeCursor,
  newTask,
  ownerScope,
  parseSort,
  visibleTo,
} from '../src/domain.ts';

const t0 = new Date('2026-11-22T10:00:00.000Z');
const t1 = new Date('2026-11-22T10:05:00.000Z');
const id = '01a204b0-8f10-727d-8a49-f7a461d9a4c6';

describe('tasks domain', () => {
  describe('newTask', () => {
    it('given only a title, when created, then it is pending with no description and equal timestamps', () => {
      assert.deepEqual(newTask({ title: 'a' }, id, t0), {
        owner_id: null,
        id,
        title: 'a',
        description: null,
        status: 'pending',
        created_at: t0.toISOString(),
        updated_at: t0.toISOString(),
      });
    });
  });

  describe('ownerScope', () => {
    it('given tasks:all, then the caller sees every task', () => {
      const scope = ownerScope({ userId: id, role: 'operator' }, true);
      assert.equal(scope, undefined);
      assert.equal(visibleTo(newTask({ title: 'a' }, id, t0, 'someone-else'), scope), true);
    });
    it('given no tasks:all, then only tasks the caller owns are visible', () => {
      const scope = ownerScope({ userId: 'me', role: 'member' }, false);
      assert.equal(visibleTo(newTask({ title: 'a' }, id, t0, 'me'), scope), true);
      assert.equal(visibleTo(newTask({ title: 'a' }, id, t0, 'someone-else'), scope), false);
      assert.equal(
        visibleTo(newTask({ title: 'a' }, id, t0, null), scope),
        false,
        'ownerless tasks are not theirs',
      );
    });
  });

  describe('applyPatch', () => {
    const task: Task = newTask({ title: 'a', description: 'd', status: 'pending' }, id, t0);

    it('given a new status, when patched, then only status and updated_at change and the change is recorded', () => {
      const result = applyPatch(task, { status: 'completed' }, t1);
      assert.ok(result);
      assert.deepEqual(result.task, { ...task, status: 'completed', updated_at: t1.toISOString() });
      assert.deepEqual(result.changes, { status: { from: 'pending', to: 'completed' } });
    });

    it('given values equal to the current ones, when patched, then nothing happens', () => {
      assert.equal(applyPatch(task, { title: 'a', status: 'pending', description: 'd' }, t1), null);
    });

    it('given description null, when patched, then the description is cleared', () => {
      const result = applyPatch(task, { description: null }, t1);
      assert.deepEqual(result?.changes, { description: { from: 'd', to: null } });
      assert.equal(result?.task.description, null);
    });
  });

  describe('sort and cursors', () => {
    it('parses ascending, descending and the default', () => {
      assert.deepEqual(parseSort('title'), { field: 'title', descending: false });
      assert.deepEqual(parseSort('-updated_at'), { field: 'updated_at', descending: true });
      assert.deepEqual(parseSort(undefined), { field: 'created_at', descending: true });
    });

    it('refuses a field outside the list, naming the sort parameter', () => {
      assert.throws(
        () => parseSort('id; DROP TABLE tasks'),
        (error: HttpProblem) => error.status === 400 && error.problem.errors?.[0]?.field === 'sort',
      );
    });

    it('round-trips a cursor for the sort it was made for, and only that one', () => {
      const sort = parseSort('-created_at');
      const task = newTask({ title: 'a' }, id, t0);
      const cursor = encodeCursor(sort, task);
      assert.deepEqual(decodeCursor(cursor, sort), { sort: '-created_at', value: t0.toISOString(), id });
      assert.throws(
        () => decodeCursor(cursor, parseSort('created_at')),
        (error: HttpProblem) => /made for sort -created_at/.test(String(error.problem.errors?.[0]?.reason)),
      );
    });

    it('refuses forged or garbled cursors', () => {
      const sort = parseSort('created_at');
      const forged = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
      for (const text of [
        'garbage',
        forged({ sort: 'created_at', value: 'yesterday', id }),
        forged({ sort: 'created_at', value: t0.toISOString(), id: "1' OR '1'='1" }),
        forged(['created_at']),
      ]) {
        assert.throws(() => decodeCursor(text, sort), HttpProblem, text);
      }
    });
  });
});
