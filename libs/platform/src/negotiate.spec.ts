import { negotiate } from './negotiate';

const OFFERS = ['application/json', 'text/html', 'application/linkset+json'] as const;

describe('negotiate', () => {
  it('gives browsers HTML and apps JSON', () => {
    const chrome = 'text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8';
    expect(negotiate(chrome, OFFERS)).toBe('text/html');
    expect(negotiate('application/json', OFFERS)).toBe('application/json');
    expect(negotiate('*/*', OFFERS)).toBe('application/json');
    expect(negotiate(undefined, OFFERS)).toBe('application/json');
    expect(negotiate('', OFFERS)).toBe('application/json');
    expect(negotiate('application/*', OFFERS)).toBe('application/json');
    expect(negotiate('application/linkset+json', OFFERS)).toBe('application/linkset+json');
  });

  it('honours q values, q=0 refusals and specificity', () => {
    expect(negotiate('application/json;q=0.5, text/html', OFFERS)).toBe('text/html');
    expect(negotiate('*/*, application/json;q=0', OFFERS)).toBe('text/html');
    expect(negotiate('text/*;q=0.3, */*;q=0.2', OFFERS)).toBe('text/html');
    expect(negotiate('image/png', OFFERS)).toBeUndefined();
    expect(negotiate('garbage, ;;;', OFFERS)).toBeUndefined();
  });
});
