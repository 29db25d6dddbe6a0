import { errorText } from '../../src/error-text';

describe('errorText (the one way an error becomes text)', () => {
  it('is the message when there is one, and the string of anything not an Error', () => {
    expect(errorText(new Error('connect ECONNREFUSED 127.0.0.1:1'))).toBe('connect ECONNREFUSED 127.0.0.1:1');
    expect(errorText('plain')).toBe('plain');
    expect(errorText(undefined)).toBe('undefined');
  });

  it('names the inner errors of an AggregateError with an empty message (a refused dual-stack connect)', () => {
    const refused = (address: string) => Object.assign(new Error(`connect ECONNREFUSED ${address}`), { code: 'ECONNREFUSED' });
    expect(errorText(new AggregateError([refused('::1:1'), refused('127.0.0.1:1')], ''))).toBe('connect ECONNREFUSED ::1:1; connect ECONNREFUSED 127.0.0.1:1');
  });

  it('falls back to the code, then the name, of an error without a message', () => {
    expect(errorText(Object.assign(new Error(''), { code: 'ECONNRESET' }))).toBe('ECONNRESET');
    expect(errorText(new TypeError(''))).toBe('TypeError');
  });
});
