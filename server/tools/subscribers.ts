/**
 * Realistic synthetic subscribers of a city cable-TV operator, as the billing system would export them —
 * for demos, tests and benchmarks. Deterministic for a seed, any size, streamed row by row. Phone numbers
 * come in the formats people really type (+86, 0086, spaces, dashes, landlines with area codes), so the
 * import's normalisation is exercised.
 *
 *   npm run generate:subscribers -- --count 100000 --source digital --format csv --out digital.csv
 *
 * Without `--out` it prints to stdout (then run it with `npm run --silent`, or npm's banner lands in the file).
 */
import { createWriteStream } from 'node:fs';
import type { Writable } from 'node:stream';
import type { CustomerSource } from '#shared/customers/customer';

const SURNAMES = [
	...'王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤'
];
const GIVEN = [
	...'伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国文辉鑫宇浩然子轩梓涵欣怡晨阳佳琪志强海燕春梅红霞永庆玉兰德胜建华卫东晓明丹丹'
];
const DISTRICTS = [
	'西湖区',
	'上城区',
	'拱墅区',
	'滨江区',
	'萧山区',
	'余杭区',
	'临平区',
	'钱塘区',
	'富阳区',
	'临安区'
];
const ROADS = [
	'文三路',
	'文二路',
	'学院路',
	'教工路',
	'天目山路',
	'莫干山路',
	'延安路',
	'解放路',
	'庆春路',
	'凤起路',
	'体育场路',
	'环城北路',
	'江南大道',
	'滨盛路',
	'市心路',
	'人民路',
	'临平大道',
	'金沙大道',
	'富春街道',
	'衣锦街'
];
const ESTATES = [
	'翠苑一区',
	'翠苑二区',
	'古荡新村',
	'嘉绿苑',
	'文鼎苑',
	'大关苑',
	'和睦新村',
	'朝晖六区',
	'采荷新村',
	'南肖埠',
	'闻涛苑',
	'东方郡',
	'金色海岸',
	'绿城桂花园',
	'星洲花园'
];
const DIGITAL_PRODUCTS = [
	'数字电视基本包',
	'高清频道包',
	'少儿动漫包',
	'影视点播包',
	'体育赛事包',
	'4K超高清包',
	'宽带100M',
	'宽带300M',
	'互动电视'
];
const ANALOG_PRODUCTS = ['模拟电视基本收视', '副机收视'];
const STATUSES = ['正常', '正常', '正常', '正常', '正常', '正常', '欠费停机', '报停', '销户'];

/** mulberry32: a tiny deterministic PRNG, uniform in [0, 1); good enough for test data. */
export function mulberry32(seed: number): () => number {
	let a = seed >>> 0;
	return () => {
		a = (a + 0x6d2b79f5) >>> 0;
		let t = a;
		t = Math.imul(t ^ (t >>> 15), t | 1);
		t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
		return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
	};
}

export interface SubscriberRow {
	account: string;
	name: string;
	phones: string;
	address: string;
	area: string;
	smartCard: string;
	stbSerial: string;
	products: string;
	status: string;
}

export interface GenerateOptions {
	count: number;
	source: CustomerSource;
	seed?: number;
	/** The first account number's running index (accounts are unique per source and index). */
	start?: number;
}

export function* generateSubscribers({
	count,
	source,
	seed = 1,
	start = 0
}: GenerateOptions): Generator<SubscriberRow> {
	const rnd = mulberry32(seed * 7919 + start);
	const pick = <T>(list: readonly T[]) => list[Math.floor(rnd() * list.length)]!;
	const digits = (n: number) => {
		let s = '';
		for (let i = 0; i < n; i++) s += Math.floor(rnd() * 10);
		return s;
	};
	const mobile = () => {
		const number = `1${pick(['3', '5', '7', '8', '9'])}${digits(9)}`;
		const style = rnd();
		if (style < 0.6) return number;
		if (style < 0.75) return `${number.slice(0, 3)} ${number.slice(3, 7)} ${number.slice(7)}`;
		if (style < 0.85) return `+86 ${number}`;
		if (style < 0.92) return `0086-${number}`;
		return `${number.slice(0, 3)}-${number.slice(3, 7)}-${number.slice(7)}`;
	};
	const landline = () => `0571-8${digits(7)}`;
	for (let i = start; i < start + count; i++) {
		const surname = pick(SURNAMES);
		const given = rnd() < 0.3 ? pick(GIVEN) : pick(GIVEN) + pick(GIVEN);
		const district = pick(DISTRICTS);
		const address = `杭州市${district}${pick(ROADS)}${1 + Math.floor(rnd() * 300)}号${pick(ESTATES)}${
			1 + Math.floor(rnd() * 30)
		}幢${1 + Math.floor(rnd() * 4)}单元${1 + Math.floor(rnd() * 20)}0${1 + Math.floor(rnd() * 4)}室`;
		const phones = [rnd() < 0.8 ? mobile() : landline()];
		if (rnd() < 0.35) phones.push(rnd() < 0.5 ? landline() : mobile());
		const digital = source === 'digital';
		const products = digital
			? [DIGITAL_PRODUCTS[0]!, ...DIGITAL_PRODUCTS.slice(1).filter(() => rnd() < 0.2)]
			: [ANALOG_PRODUCTS[0]!, ...(rnd() < 0.1 ? [ANALOG_PRODUCTS[1]!] : [])];
		yield {
			account: `${digital ? 'D' : 'A'}${String(i + 1).padStart(9, '0')}`,
			name: surname + given,
			phones: phones.join(';'),
			address,
			area: district,
			smartCard: digital ? `8571${digits(12)}` : '',
			stbSerial: digital
				? `STB${digits(2)}${String.fromCharCode(65 + Math.floor(rnd() * 26))}${digits(8)}`
				: '',
			products: products.join(';'),
			status: pick(STATUSES)
		};
	}
}

export const CSV_HEADER = [
	'账号',
	'姓名',
	'联系电话',
	'装机地址',
	'片区',
	'智能卡号',
	'机顶盒号',
	'套餐',
	'状态'
] as const;

const csvCell = (s: string) => (/[",\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s);

export function csvLine(row: SubscriberRow): string {
	return [
		row.account,
		row.name,
		row.phones,
		row.address,
		row.area,
		row.smartCard,
		row.stbSerial,
		row.products,
		row.status
	]
		.map(csvCell)
		.join(',');
}

/** The whole export as text chunks (CSV with a Chinese header, or JSON lines). */
export function* exportChunks(
	options: GenerateOptions,
	format: 'csv' | 'jsonl',
	rowsPerChunk = 5000
): Generator<string> {
	let chunk = format === 'csv' ? CSV_HEADER.join(',') + '\n' : '';
	let n = 0;
	for (const row of generateSubscribers(options)) {
		chunk += (format === 'csv' ? csvLine(row) : JSON.stringify(row)) + '\n';
		if (++n % rowsPerChunk === 0) {
			yield chunk;
			chunk = '';
		}
	}
	if (chunk) yield chunk;
}

// CLI: write an export to `--out`, or print it to stdout.
if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
	const arg = (name: string, fallback: string) => {
		const i = process.argv.indexOf(`--${name}`);
		return i > 0 ? (process.argv[i + 1] ?? fallback) : fallback;
	};
	const source = arg('source', 'digital') as CustomerSource;
	const format = arg('format', 'csv') as 'csv' | 'jsonl';
	const options = {
		count: Number(arg('count', '1000')),
		source,
		seed: Number(arg('seed', '1')),
		start: Number(arg('start', '0'))
	};
	const outPath = arg('out', '');
	const out: Writable = outPath ? createWriteStream(outPath) : process.stdout;
	for (const chunk of exportChunks(options, format)) {
		if (!out.write(chunk)) await new Promise<void>((r) => out.once('drain', () => r()));
	}
	if (outPath) {
		await new Promise<void>((resolve, reject) => out.end(() => resolve()).once('error', reject));
		console.error(`${options.count} subscribers written to ${outPath}`);
	}
}
