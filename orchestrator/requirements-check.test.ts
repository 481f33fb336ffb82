import { describe, expect, it } from 'vitest';
import { refusedRequirement } from './requirements-check.js';

describe('refusedRequirement', () => {
  it('accepts plain package requirements, extras, markers and comments', () => {
    const text = [
      '# pinned for the game',
      'condorgame==0.5.3',
      'numpy>=2,<3  # math',
      'scipy ~= 1.14',
      'requests[socks]>=2.31',
      'pandas; python_version >= "3.12"',
      'torch',
      '',
    ].join('\n');
    expect(refusedRequirement(text)).toBeUndefined();
  });

  it.each([
    ['-e ./local', /line 2 .*is a pip option/],
    ['-r other.txt', /is a pip option/],
    ['-f https://example.org/wheels', /is a pip option/],
    ['--index-url https://evil.example/simple', /is a pip option/],
    ['--extra-index-url https://evil.example/simple', /is a pip option/],
    ['./wheels/thing.whl', /is a local path/],
    ['/etc/passwd', /is a local path/],
    ['~/x', /is a local path/],
    ['https://evil.example/pkg.tar.gz', /is a URL/],
    ['git+https://github.com/x/y', /is a URL/],
    ['pkg @ https://evil.example/pkg.whl', /is a URL or a direct reference/],
    ['numpy scipy', /is not a package requirement/],
  ])('refuses %s with a clear message', (line, message) => {
    const reason = refusedRequirement(`numpy\n${line}\n`) ?? '';
    expect(reason).toMatch(message);
    expect(reason).toMatch(/--allow-requirement-options/);
  });
});
