// eslint-disable-next-line @typescript-eslint/no-require-imports -- a CommonJS module of the bench
const { compareInstructions, TOLERANCE } = require('./instruction-budget') as {
  TOLERANCE: number;
  compareInstructions: (
    committed: Record<string, number>,
    measured: Record<string, number>,
  ) => {
    ok: boolean;
    over: { name: string; committed: number; measured: number; rise: number }[];
    missing: string[];
  };
};

describe('compareInstructions', () => {
  const committed = { 'message read (50)': 200_000, 'embedding hit': 100_000 };

  it('allows 5% above the committed figure', () => {
    expect(TOLERANCE).toBe(0.05);
    const result = compareInstructions(committed, { 'message read (50)': 210_000, 'embedding hit': 105_000 });
    expect(result).toMatchObject({ ok: true, over: [], missing: [] });
  });

  it('fails at 5.1% above, naming the call', () => {
    const result = compareInstructions(committed, { 'message read (50)': 210_200, 'embedding hit': 100_000 });
    expect(result.ok).toBe(false);
    expect(result.over).toEqual([
      { name: 'message read (50)', committed: 200_000, measured: 210_200, rise: 210_200 / 200_000 - 1 },
    ]);
    expect(result.missing).toEqual([]);
  });

  it('passes a figure that fell', () => {
    expect(compareInstructions(committed, { 'message read (50)': 150_000, 'embedding hit': 90_000 }).ok).toBe(true);
  });

  it('fails when a committed call was not measured', () => {
    const result = compareInstructions(committed, { 'message read (50)': 200_000 });
    expect(result).toMatchObject({ ok: false, over: [], missing: ['embedding hit'] });
  });
});
