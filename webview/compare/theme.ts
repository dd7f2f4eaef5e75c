/** Colors from VS Code's theme variables, so light, dark and high-contrast themes all read well. */

export interface Rgb {
  r: number;
  g: number;
  b: number;
}

let probe: CanvasRenderingContext2D | null = null;

/** Any CSS color → rgb, via a canvas (it normalizes names, hex and rgb() alike). */
export function parseColor(css: string, fallback: Rgb = { r: 128, g: 128, b: 128 }): Rgb {
  probe ??= document.createElement('canvas').getContext('2d');
  if (!probe || !css) return fallback;
  probe.fillStyle = '#010203';
  probe.fillStyle = css.trim();
  const v = String(probe.fillStyle);
  if (v === '#010203' && css.trim() !== '#010203') return fallback;
  if (v.startsWith('#')) return { r: parseInt(v.slice(1, 3), 16), g: parseInt(v.slice(3, 5), 16), b: parseInt(v.slice(5, 7), 16) };
  const m = /rgba?\(([\d.]+),\s*([\d.]+),\s*([\d.]+)/.exec(v);
  return m ? { r: +m[1]!, g: +m[2]!, b: +m[3]! } : fallback;
}

export const rgba = (c: Rgb, alpha = 1): string => `rgba(${c.r}, ${c.g}, ${c.b}, ${alpha})`;

export function cssVar(name: string, fallback = ''): string {
  return getComputedStyle(document.body).getPropertyValue(name).trim() || fallback;
}

export interface Theme {
  foreground: string;
  muted: string;
  grid: string;
  border: string;
  background: string;
  hoverBackground: string;
  hoverForeground: string;
  hoverBorder: string;
  focus: string;
  fontFamily: string;
  fontSize: number;
  /** One color per run (or group), in order. */
  palette: Rgb[];
  highContrast: boolean;
  heat: Rgb;
}

const CHART_VARS = ['--vscode-charts-blue', '--vscode-charts-orange', '--vscode-charts-green', '--vscode-charts-purple', '--vscode-charts-red', '--vscode-charts-yellow'];
const CHART_FALLBACKS = ['#3794ff', '#d18616', '#89d185', '#b180d7', '#f14c4c', '#cca700'];

function rgbToHsl({ r, g, b }: Rgb): [number, number, number] {
  const R = r / 255, G = g / 255, B = b / 255;
  const max = Math.max(R, G, B), min = Math.min(R, G, B);
  const l = (max + min) / 2;
  if (max === min) return [0, 0, l];
  const d = max - min;
  const s = l > 0.5 ? d / (2 - max - min) : d / (max + min);
  const h = max === R ? (G - B) / d + (G < B ? 6 : 0) : max === G ? (B - R) / d + 2 : (R - G) / d + 4;
  return [h * 60, s, l];
}

function hslToRgb(h: number, s: number, l: number): Rgb {
  const k = (n: number) => (n + h / 30) % 12;
  const a = s * Math.min(l, 1 - l);
  const f = (n: number) => Math.round(255 * (l - a * Math.max(-1, Math.min(k(n) - 3, 9 - k(n), 1))));
  return { r: f(0), g: f(8), b: f(4) };
}

/**
 * The theme's six chart colors first; past them, hues spread by the golden angle at the theme
 * colors' average saturation and lightness, so a hundred runs stay distinct and in character.
 */
export function palette(count: number, base: Rgb[]): Rgb[] {
  const out = base.slice(0, count);
  if (count <= base.length) return out;
  const hsl = base.map(rgbToHsl);
  const s = hsl.reduce((a, c) => a + c[1], 0) / hsl.length;
  const l = hsl.reduce((a, c) => a + c[2], 0) / hsl.length;
  for (let i = base.length; i < count; i++) {
    const hue = (hsl[0]![0] + i * 137.508) % 360;
    // Alternate lightness a little so neighbours in hue still differ.
    const shade = [0, 0.08, -0.08][i % 3]!;
    out.push(hslToRgb(hue, Math.min(0.95, s), Math.max(0.25, Math.min(0.8, l + shade))));
  }
  return out;
}

export function readTheme(count: number): Theme {
  const base = CHART_VARS.map((v, i) => parseColor(cssVar(v, CHART_FALLBACKS[i]), parseColor(CHART_FALLBACKS[i]!)));
  const foreground = cssVar('--vscode-foreground', '#cccccc');
  const fg = parseColor(foreground);
  const highContrast = document.body.classList.contains('vscode-high-contrast') || document.body.classList.contains('vscode-high-contrast-light');
  return {
    foreground,
    muted: cssVar('--vscode-descriptionForeground', rgba(fg, 0.7)),
    grid: rgba(fg, highContrast ? 0.35 : 0.1),
    border: cssVar('--vscode-panel-border', rgba(fg, 0.2)),
    background: cssVar('--vscode-editor-background', '#1f1f1f'),
    hoverBackground: cssVar('--vscode-editorHoverWidget-background', '#252526'),
    hoverForeground: cssVar('--vscode-editorHoverWidget-foreground', foreground),
    hoverBorder: cssVar('--vscode-editorHoverWidget-border', '#454545'),
    focus: cssVar('--vscode-focusBorder', '#0078d4'),
    fontFamily: cssVar('--vscode-font-family', 'system-ui, sans-serif'),
    fontSize: parseFloat(cssVar('--vscode-font-size', '13')) || 13,
    palette: palette(Math.max(count, 1), base),
    highContrast,
    heat: base[0]!,
  };
}
