import { type Flight, Flights } from './flights';

describe('Flights', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  const flight = (): Flight => ({ startedAt: performance.now() });
  const never = new Promise<void>(() => undefined);

  it('lets a call join a flight until timeoutMs from its start, not after', () => {
    const flights = new Flights<Flight>(100);
    const a = flight();
    flights.add([['k', a]], never);
    jest.advanceTimersByTime(99);
    expect(flights.joinable('k')).toBe(a);
    expect(flights.left(a)).toBe(1);
    jest.advanceTimersByTime(1);
    expect(flights.joinable('k')).toBeUndefined();
  });

  it('forgets a flight that never settles once timeoutMs has passed', () => {
    const flights = new Flights<Flight>(100);
    flights.add(
      [
        ['a', flight()],
        ['b', flight()],
      ],
      never,
    );
    expect(flights.size).toBe(2);
    jest.advanceTimersByTime(100);
    expect(flights.size).toBe(0);
  });

  it('forgets flights when their work settles, resolved or rejected', async () => {
    const flights = new Flights<Flight>(100);
    let resolve!: () => void;
    let reject!: (error: Error) => void;
    flights.add([['a', flight()]], new Promise<void>((r) => (resolve = r)));
    flights.add([['b', flight()]], new Promise<void>((_, r) => (reject = r)));
    resolve();
    reject(new Error('compute failed'));
    await Promise.resolve();
    await Promise.resolve();
    expect(flights.size).toBe(0);
  });

  it('leaves a later flight under the same key when an earlier one lands', async () => {
    const flights = new Flights<Flight>(100);
    let resolve!: () => void;
    flights.add([['k', flight()]], new Promise<void>((r) => (resolve = r)));
    const later = flight();
    flights.add([['k', later]], never);
    resolve();
    await Promise.resolve();
    await Promise.resolve();
    expect(flights.joinable('k')).toBe(later);
  });

  it('drops whatever flight has a key, and nothing else', () => {
    const flights = new Flights<Flight>(100);
    const kept = flight();
    flights.add(
      [
        ['a', flight()],
        ['b', kept],
      ],
      never,
    );
    flights.drop('a');
    expect(flights.joinable('a')).toBeUndefined();
    expect(flights.joinable('b')).toBe(kept);
    expect(flights.size).toBe(1);
  });
});
