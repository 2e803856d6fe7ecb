import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import knex from 'knex';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Browser, launchChromium, type Page } from '../../console/test-support/browser.js';
import { writeDevice } from '../helpers/central-seed.js';
import {
  postgresDatabase,
  type SeededDatabase,
  sqliteDatabase,
} from '../helpers/console-databases.js';
import {
  FAILED_REASON,
  HALT_REASON,
  SWITCH_AT,
  seedConsoleFleet,
} from '../helpers/console-fleet.js';
import { startConsole } from '../helpers/console-server.js';
import { tempDirForSuite } from '../helpers/temp-dir.js';

const SHOTS = join(process.cwd(), 'test-output', 'console');
const PHONE = { width: 390, height: 844 };
const LAPTOP = { width: 1280, height: 900 };
// charts.js colours: the first version blue, the second red.
const COLOURS = { first: [0x1f, 0x77, 0xb4], second: [0xd6, 0x27, 0x28] };

// The browser globals the in-page probes below use: this project's type check has no DOM
// types, and the console's CSP (no eval) rules out probes given as source text.
interface ProbeCanvas {
  width: number;
  height: number;
  getContext(kind: '2d'): {
    getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray };
  };
}
declare const document: {
  querySelectorAll(selector: string): { length: number };
  querySelector(selector: string): ProbeCanvas;
  body: { dataset: Record<string, string | undefined> };
  documentElement: { scrollWidth: number };
};
declare const window: { innerWidth: number };

async function waitForCount(page: Page, selector: string, n: number) {
  await page.waitForFunction(
    ([sel, count]) => document.querySelectorAll(sel as string).length === count,
    [selector, n] as const,
  );
  expect(await page.locator(selector).count()).toBe(n);
}

/** Where pixels near a colour lie on a canvas: how many, and their mean x. */
function colourOnCanvas(page: Page, selector: string, rgb: readonly number[]) {
  return page.evaluate(
    ([sel, [r = 0, g = 0, b = 0]]) => {
      // The column holding the most pixels of the colour: a vertical line shows as one.
      const tallestColumn = (px: Uint8ClampedArray, width: number, rgb: number[]) => {
        const counts = new Array<number>(width).fill(0);
        for (let i = 0; i < px.length; i += 4) {
          const near = rgb.every((v, k) => Math.abs((px[i + k] ?? 0) - v) < 30);
          if (near) counts[(i / 4) % width] = (counts[(i / 4) % width] ?? 0) + 1;
        }
        const x = counts.indexOf(Math.max(...counts));
        return { x, n: counts[x] ?? 0 };
      };
      const c = document.querySelector(sel);
      const data = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
      let n = 0;
      let sumX = 0;
      for (let i = 0; i < data.length; i += 4) {
        const near =
          Math.abs((data[i] ?? 0) - r) < 40 &&
          Math.abs((data[i + 1] ?? 0) - g) < 40 &&
          Math.abs((data[i + 2] ?? 0) - b) < 40 &&
          (data[i + 3] ?? 0) > 200;
        if (near) {
          n++;
          sumX += (i / 4) % c.width;
        }
      }
      return { n, meanX: n ? sumX / n : -1, tallest: tallestColumn(data, c.width, [r, g, b]) };
    },
    [selector, rgb] as const,
  );
}

describe.each(['sqlite', 'postgres'] as const)('console in Chromium over %s', (kind) => {
  let db: SeededDatabase;
  let browser: Browser;
  let url: string;
  let file = '';
  const dir = tempDirForSuite('ota-console-browser-');

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    db = kind === 'sqlite' ? await sqliteDatabase(dir) : await postgresDatabase();
    await seedConsoleFleet(db.writer, { rollouts: true });
    const env = await db.readOnlyEnv();
    file = env.WEATHER_DB_FILE ?? '';
    ({ url } = await startConsole({ ...env, CONSOLE_REFRESH: '1s' }, Date.now, afterAll));
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await db?.destroy();
  });

  async function open(path: string, viewport = LAPTOP) {
    const page = await browser.newPage({ viewport });
    const errors: string[] = [];
    page.on('pageerror', (err) => errors.push(err.message));
    page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
    await page.goto(`${url}${path}`);
    await page.waitForFunction(() => Number(document.body.dataset.rendered ?? 0) >= 1);
    return { page, errors };
  }

  it('fleet: every device, the stale one marked, the halted rollout shown; refreshes itself', async () => {
    const { page, errors } = await open('/');
    await waitForCount(page, 'tr[data-device]', 8);
    const stale = page.locator('tr[data-device="pi-stale"]');
    expect(await stale.getAttribute('class')).toBe('stale');
    expect(await stale.locator('td.behind').textContent()).toBe(`1.2.0 halted: ${HALT_REASON}`);
    expect(await stale.locator('.badge').textContent()).toBe('stale');
    expect(await page.locator('[data-halted="1.2.0"]').textContent()).toContain(HALT_REASON);
    expect(await page.locator('tr[data-device="pi-failed"] td.behind').textContent()).toBe(
      `1.2.0 failed here: ${FAILED_REASON}`,
    );
    await page.screenshot({ path: join(SHOTS, `${kind}-fleet.png`), fullPage: true });

    // A device that reports now appears without a reload.
    const writer =
      kind === 'sqlite'
        ? knex({ client: 'better-sqlite3', connection: { filename: file }, useNullAsDefault: true })
        : db.writer;
    try {
      await writeDevice(writer, {
        id: 'pi-new',
        version: '1.1.0',
        lastSeen: new Date(),
        agent: { groups: ['lab'] },
      });
    } finally {
      if (kind === 'sqlite') await writer.destroy();
    }
    await page.locator('tr[data-device="pi-new"]').waitFor();
    expect(errors).toEqual([]);
    await page.close();
  });

  it('releases: policy progress, outcomes, grouped failure reasons and the halt', async () => {
    const { page, errors } = await open('/releases');
    const release = page.locator('section[data-version="1.2.0"]');
    await release.waitFor();
    expect(await release.locator('.badge.halted').count()).toBe(1);
    expect(await release.locator('.alert').textContent()).toContain(HALT_REASON);
    expect(await release.locator('[data-count="failed"] dd').textContent()).toBe('1');
    expect(await release.locator('[data-count="rolled back"] dd').textContent()).toBe('1');
    expect(await release.locator('details li').allTextContents()).toHaveLength(2);
    await page.screenshot({ path: join(SHOTS, `${kind}-releases.png`), fullPage: true });
    expect(errors).toEqual([]);
    await page.close();
  });

  it('device: history, and uPlot charts of each quantity drawn in the colour of each version', async () => {
    const { page, errors } = await open('/devices/pi-ok');
    await waitForCount(page, 'figure[data-metric] canvas', 5);
    const api = (await (await fetch(`${url}/api/devices/pi-ok/readings`)).json()) as {
      t: number[];
    };
    for (const metric of ['temperature', 'humidity', 'pressure', 'wind', 'precipitation']) {
      const figure = page.locator(`figure[data-metric="${metric}"]`);
      expect(await figure.getAttribute('data-versions')).toBe('1.1.0,1.2.0');
      expect(await figure.getAttribute('data-switches')).toBe('1.2.0');
      expect(Number(await figure.getAttribute('data-points'))).toBe(api.t.length);
      expect(await figure.locator('.u-legend .u-series').allTextContents()).toEqual(
        expect.arrayContaining([
          expect.stringContaining('v1.1.0'),
          expect.stringContaining('v1.2.0'),
        ]),
      );
    }
    // Pixels: the temperature line is drawn, blue (1.1.0) left of red (1.2.0), where the update was.
    const canvas = 'figure[data-metric="temperature"] canvas';
    const before = await colourOnCanvas(page, canvas, COLOURS.first);
    const after = await colourOnCanvas(page, canvas, COLOURS.second);
    expect(before.n).toBeGreaterThan(100);
    expect(after.n).toBeGreaterThan(100);
    expect(before.meanX).toBeLessThan(after.meanX);
    // The version mark: a dashed vertical line (#5b6576) between the two.
    const mark = (await colourOnCanvas(page, canvas, [0x5b, 0x65, 0x76])).tallest;
    expect(mark.n).toBeGreaterThan(30);
    expect(mark.x).toBeGreaterThan(before.meanX);
    expect(mark.x).toBeLessThan(after.meanX);
    expect(SWITCH_AT).toBeGreaterThan(api.t[0] ?? 0);
    expect(await page.locator('table.history tbody tr').count()).toBe(2);
    await page.screenshot({ path: join(SHOTS, `${kind}-device.png`), fullPage: true });
    expect(errors).toEqual([]);
    await page.close();
  });

  it('works at phone width (390 px): no sideways scrolling, rows become cards', async () => {
    for (const [path, name] of [
      ['/', 'fleet'],
      ['/releases', 'releases'],
      ['/devices/pi-ok', 'device'],
    ] as const) {
      const { page, errors } = await open(path, PHONE);
      if (name === 'device') await page.locator('figure[data-metric] canvas').first().waitFor();
      const overflow = await page.evaluate(
        () => document.documentElement.scrollWidth - window.innerWidth,
      );
      expect(overflow, name).toBeLessThanOrEqual(0);
      if (name === 'fleet') expect(await page.locator('table.fleet thead').isVisible()).toBe(false);
      await page.screenshot({ path: join(SHOTS, `${kind}-${name}-phone.png`), fullPage: true });
      expect(errors).toEqual([]);
      await page.close();
    }
  });
});
