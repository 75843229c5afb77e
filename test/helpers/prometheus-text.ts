/**
 * A strict parser of the Prometheus text exposition format 0.0.4
 * (https://prometheus.io/docs/instrumenting/exposition_formats/). It throws, naming the line, on
 * anything a Prometheus server would reject or that the format forbids: bad names, bad escapes,
 * unparseable values, a TYPE after samples, one family's samples split in two groups, duplicate
 * series, and histograms whose buckets are not cumulative or lack `+Inf`.
 */

export type MetricType = 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
  timestamp?: number;
}

export interface Family {
  name: string;
  type: MetricType;
  help?: string;
  samples: Sample[];
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set<MetricType>(['counter', 'gauge', 'histogram', 'summary', 'untyped']);

export function parsePrometheusText(text: string): Map<string, Family> {
  if (text.length > 0 && !text.endsWith('\n')) throw new Error('exposition must end with a newline');
  const families = new Map<string, Family>();
  const finished = new Set<string>();
  let current: string | null = null;
  const lines = text.split('\n');
  lines.pop();

  lines.forEach((line, index) => {
    const where = `line ${index + 1} (${JSON.stringify(line.slice(0, 120))})`;
    if (line.trim() === '') return;
    if (line.startsWith('#')) {
      const m = /^#\s+(HELP|TYPE)\s+(\S+)(?:\s(.*))?$/.exec(line);
      if (!m) return; // other comments are allowed
      const [, keyword, name, rest = ''] = m as unknown as [string, 'HELP' | 'TYPE', string, string?];
      if (!METRIC_NAME.test(name)) throw new Error(`${where}: invalid metric name ${name}`);
      const family = familyFor(families, finished, name, current, where);
      current = name;
      if (keyword === 'HELP') {
        if (family.help !== undefined) throw new Error(`${where}: second HELP for ${name}`);
        family.help = unescapeHelp(rest, where);
      } else {
        if (!TYPES.has(rest as MetricType)) throw new Error(`${where}: unknown type ${rest}`);
        if (family.samples.length > 0) throw new Error(`${where}: TYPE after samples of ${name}`);
        if (family.type !== 'untyped' || family.typeSeen) throw new Error(`${where}: second TYPE for ${name}`);
        family.type = rest as MetricType;
        family.typeSeen = true;
      }
      return;
    }
    const sample = parseSample(line, where);
    const familyName = familyOf(sample.name, families);
    const family = familyFor(families, finished, familyName, current, where);
    current = familyName;
    checkSampleName(family, sample, where);
    const key = `${sample.name}${JSON.stringify(Object.entries(sample.labels).sort())}`;
    if (family.seen.has(key)) throw new Error(`${where}: duplicate series ${key}`);
    family.seen.add(key);
    family.samples.push(sample);
  });

  for (const family of families.values()) if (family.type === 'histogram') checkHistogram(family);
  return new Map([...families].map(([name, f]) => [name, { name: f.name, type: f.type, ...(f.help !== undefined ? { help: f.help } : {}), samples: f.samples }]));
}

interface Building extends Family {
  typeSeen?: boolean;
  seen: Set<string>;
}

function familyFor(families: Map<string, Family>, finished: Set<string>, name: string, current: string | null, where: string): Building {
  if (current !== null && current !== name) finished.add(current);
  if (finished.has(name)) throw new Error(`${where}: lines of ${name} are not in one group`);
  let family = families.get(name) as Building | undefined;
  if (!family) {
    family = { name, type: 'untyped', samples: [], seen: new Set() };
    families.set(name, family);
  }
  return family;
}

/** `x_bucket`, `x_sum`, `x_count` belong to family `x` when `x` is a declared histogram or summary. */
function familyOf(sampleName: string, families: Map<string, Family>): string {
  for (const suffix of ['_bucket', '_sum', '_count']) {
    if (!sampleName.endsWith(suffix)) continue;
    const base = sampleName.slice(0, -suffix.length);
    const f = families.get(base);
    if (f && (f.type === 'histogram' || f.type === 'summary')) return base;
  }
  return sampleName;
}

function checkSampleName(family: Family, sample: Sample, where: string): void {
  if (family.type === 'histogram') {
    const ok = [`${family.name}_bucket`, `${family.name}_sum`, `${family.name}_count`].includes(sample.name);
    if (!ok) throw new Error(`${where}: ${sample.name} is not a sample of histogram ${family.name}`);
    if (sample.name.endsWith('_bucket') && sample.labels.le === undefined) throw new Error(`${where}: bucket without le`);
  } else if (family.type === 'summary') {
    if (![family.name, `${family.name}_sum`, `${family.name}_count`].includes(sample.name)) throw new Error(`${where}: ${sample.name} is not a sample of summary ${family.name}`);
  } else if (sample.name !== family.name) {
    throw new Error(`${where}: ${sample.name} in family ${family.name}`);
  }
}

function checkHistogram(family: Family): void {
  const series = new Map<string, { le: number; value: number }[]>();
  const counts = new Map<string, number>();
  for (const s of family.samples) {
    const { le, ...rest } = s.labels;
    const key = JSON.stringify(Object.entries(rest).sort());
    if (s.name.endsWith('_bucket')) {
      const bound = parseValue(le!, `${family.name} le`);
      series.set(key, [...(series.get(key) ?? []), { le: bound, value: s.value }]);
    } else if (s.name.endsWith('_count')) counts.set(key, s.value);
  }
  for (const [key, buckets] of series) {
    const sorted = [...buckets].sort((a, b) => a.le - b.le);
    if (sorted.at(-1)?.le !== Infinity) throw new Error(`histogram ${family.name}${key} has no +Inf bucket`);
    for (let i = 1; i < sorted.length; i++) {
      if (sorted[i]!.value < sorted[i - 1]!.value) throw new Error(`histogram ${family.name}${key} buckets are not cumulative`);
    }
    if (counts.get(key) !== sorted.at(-1)!.value) throw new Error(`histogram ${family.name}${key}: _count differs from the +Inf bucket`);
  }
}

function parseSample(line: string, where: string): Sample {
  const nameMatch = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line);
  if (!nameMatch) throw new Error(`${where}: no metric name`);
  const name = nameMatch[0];
  let i = name.length;
  const labels: Record<string, string> = {};
  if (line[i] === '{') {
    i++;
    while (line[i] !== '}') {
      const labelMatch = /^[a-zA-Z_][a-zA-Z0-9_]*/.exec(line.slice(i));
      if (!labelMatch) throw new Error(`${where}: bad label name at column ${i + 1}`);
      const label = labelMatch[0];
      if (!LABEL_NAME.test(label) || label.startsWith('__')) throw new Error(`${where}: invalid label name ${label}`);
      if (label in labels) throw new Error(`${where}: label ${label} twice`);
      i += label.length;
      if (line[i] !== '=' || line[i + 1] !== '"') throw new Error(`${where}: expected =" after ${label}`);
      i += 2;
      let value = '';
      for (;;) {
        const c = line[i];
        if (c === undefined) throw new Error(`${where}: unterminated label value`);
        if (c === '"') break;
        if (c === '\\') {
          const next = line[i + 1];
          if (next === '\\') value += '\\';
          else if (next === '"') value += '"';
          else if (next === 'n') value += '\n';
          else throw new Error(`${where}: invalid escape \\${next ?? ''} in label value`);
          i += 2;
        } else {
          value += c;
          i++;
        }
      }
      labels[label] = value;
      i++;
      if (line[i] === ',') i++;
      else if (line[i] !== '}') throw new Error(`${where}: expected , or } after label ${label}`);
    }
    i++;
  }
  if (line[i] !== ' ') throw new Error(`${where}: expected a space before the value`);
  const rest = line.slice(i + 1).split(' ');
  if (rest.length < 1 || rest.length > 2 || rest[0] === '') throw new Error(`${where}: expected "value [timestamp]"`);
  const sample: Sample = { name, labels, value: parseValue(rest[0]!, where) };
  if (rest.length === 2) {
    if (!/^-?\d+$/.test(rest[1]!)) throw new Error(`${where}: bad timestamp ${rest[1]}`);
    sample.timestamp = Number(rest[1]);
  }
  return sample;
}

/** As Go's strconv.ParseFloat, which Prometheus uses: `NaN`/`Inf`/`Infinity` in any case (prom-client writes `Nan`). */
function parseValue(text: string, where: string): number {
  if (/^nan$/i.test(text)) return NaN;
  if (/^\+?inf(inity)?$/i.test(text)) return Infinity;
  if (/^-inf(inity)?$/i.test(text)) return -Infinity;
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text)) throw new Error(`${where}: bad value ${text}`);
  return Number(text);
}

function unescapeHelp(text: string, where: string): string {
  return text.replace(/\\(.?)/g, (_m, c: string) => {
    if (c === '\\') return '\\';
    if (c === 'n') return '\n';
    throw new Error(`${where}: invalid escape \\${c} in HELP`);
  });
}

/** The one sample of `family` whose labels include `labels`; throws when there is none or several. */
export function sampleOf(families: Map<string, Family>, family: string, labels: Record<string, string> = {}, name = family): Sample {
  const f = families.get(family);
  if (!f) throw new Error(`no metric family ${family}`);
  const hits = f.samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  if (hits.length !== 1) throw new Error(`${hits.length} samples of ${name} match ${JSON.stringify(labels)}`);
  return hits[0]!;
}
