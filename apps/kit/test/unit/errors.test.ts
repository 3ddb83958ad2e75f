import { expect } from 'chai';
import { z } from 'zod';
import {
  AppError,
  defineErrorCodes,
  errorBody,
  isAppError,
  kitErrorCodes,
  kitErrors,
  validate,
} from '../../src/index.js';

describe('errors', () => {
  describe('AppError', () => {
    it('takes its status from the code, as the contract lists it', () => {
      expect(new AppError('NOT_FOUND', 'x').status).to.equal(404);
      expect(new AppError('RATE_LIMITED', 'x').status).to.equal(429);
      expect(new AppError('CIRCUIT_OPEN', 'x').status).to.equal(503);
      expect(new AppError('TIMEOUT', 'x').status).to.equal(504);
      for (const [code, status] of Object.entries(kitErrorCodes)) {
        expect(new AppError(code, 'x').status, code).to.equal(status);
      }
    });

    it('lets the caller override the status, and treats an unknown code as 500', () => {
      expect(new AppError('CONFLICT', 'x', { status: 422 }).status).to.equal(422);
      expect(new AppError('NO_SUCH_CODE_ANYWHERE', 'x').status).to.equal(500);
    });

    it('keeps the cause and rounds retryAfterSeconds up to whole seconds', () => {
      const cause = new Error('socket hang up');
      const err = new AppError('DEPENDENCY_UNAVAILABLE', 'auth is down', { cause, retryAfterSeconds: 2.1 });
      expect(err.cause).to.equal(cause);
      expect(err.retryAfterSeconds).to.equal(3);
      expect(err).to.be.instanceOf(Error);
      expect(isAppError(err, 'DEPENDENCY_UNAVAILABLE')).to.be.true;
      expect(isAppError(err, 'TIMEOUT')).to.be.false;
      expect(isAppError(new Error('x'))).to.be.false;
    });
  });

  describe('defineErrorCodes', () => {
    it('returns one factory per code and registers the status for new AppError(code) too', () => {
      const errors = defineErrorCodes({ TEST_CHANNEL_NOT_FOUND: 404, TEST_LAST_OWNER: 409 });
      const err = errors.TEST_CHANNEL_NOT_FOUND('no such channel', { details: { channelId: 'c1' } });
      expect(err).to.be.instanceOf(AppError);
      expect(err).to.include({ code: 'TEST_CHANNEL_NOT_FOUND', status: 404, message: 'no such channel' });
      expect(err.details).to.deep.equal({ channelId: 'c1' });
      expect(new AppError('TEST_LAST_OWNER', 'x').status).to.equal(409);
    });

    it('accepts the same registration twice but refuses a conflicting one', () => {
      defineErrorCodes({ TEST_TWICE: 410 });
      expect(() => defineErrorCodes({ TEST_TWICE: 410 })).not.to.throw();
      expect(() => defineErrorCodes({ TEST_TWICE: 404 })).to.throw(/already registered with status 410/);
      expect(() => defineErrorCodes({ NOT_FOUND: 400 })).to.throw(/already registered/);
    });

    it('refuses codes that are not UPPER_SNAKE_CASE and statuses that are not errors', () => {
      expect(() => defineErrorCodes({ 'bad-code': 400 })).to.throw(/UPPER_SNAKE_CASE/);
      expect(() => defineErrorCodes({ TEST_OK: 200 })).to.throw(/not a 4xx or 5xx/);
    });

    it('gives factories for the kit codes', () => {
      expect(kitErrors.FORBIDDEN('not a member')).to.include({ code: 'FORBIDDEN', status: 403 });
    });
  });

  describe('errorBody', () => {
    it('renders code, message, requestId and details of an AppError', () => {
      const err = new AppError('CONFLICT', 'name taken', { details: { field: 'name' } });
      expect(errorBody(err, 'req-1')).to.deep.equal({
        error: { code: 'CONFLICT', message: 'name taken', requestId: 'req-1', details: { field: 'name' } },
      });
    });

    it('includes retryAfterSeconds, defaulting to 1 on 429 and 503', () => {
      expect(
        errorBody(new AppError('RATE_LIMITED', 'slow down', { retryAfterSeconds: 7 }), 'r').error,
      ).to.include({
        retryAfterSeconds: 7,
      });
      expect(errorBody(new AppError('SHUTTING_DOWN', 'bye'), 'r').error.retryAfterSeconds).to.equal(1);
      expect(errorBody(new AppError('CONFLICT', 'x'), 'r').error).not.to.have.property('retryAfterSeconds');
    });

    it('turns anything else into INTERNAL without leaking its message or stack', () => {
      const secret = new Error('password=hunter2 at db.ts:12');
      const body = errorBody(secret, 'req-2');
      expect(body).to.deep.equal({
        error: { code: 'INTERNAL', message: 'internal error', requestId: 'req-2' },
      });
      expect(JSON.stringify(errorBody('a thrown string', 'r'))).not.to.include('a thrown string');
    });
  });

  describe('validate', () => {
    const schema = z.object({ name: z.string().min(1), limits: z.object({ max: z.coerce.number().int() }) });

    it('returns the parsed value', () => {
      expect(validate(schema, { name: 'general', limits: { max: '5' } })).to.deep.equal({
        name: 'general',
        limits: { max: 5 },
      });
    });

    it('throws VALIDATION_FAILED with each issue as path and message', () => {
      let caught: unknown;
      try {
        validate(schema, { name: '', limits: { max: 'many' } });
      } catch (err) {
        caught = err;
      }
      expect(isAppError(caught, 'VALIDATION_FAILED')).to.be.true;
      const err = caught as AppError;
      expect(err.status).to.equal(400);
      const details = err.details as { path: string; message: string }[];
      expect(details.map((d) => d.path)).to.deep.equal(['name', 'limits.max']);
      expect(details.every((d) => d.message.length > 0)).to.be.true;
      expect(err.message).to.include('name:').and.to.include('limits.max:');
    });
  });
});
