/**
 * #18 F23 故障公告: a team leader publishes a fault notice for some areas and a time window; every agent's desk
 * shows it while it is in force (it reaches an open desk through replication), and withdrawing it takes it
 * off. (The voice menu speaking it to callers of those areas is proved in test/integration/voice-menu.test.ts.)
 */
import { expect, test } from '@playwright/test';
import { createUser, signIn, uniqueName } from './helpers';

test('F23 a team leader publishes a fault notice: refused with a reason when it ends before it starts, then on every agent’s desk until withdrawn', async ({
	page,
	browser,
	request
}) => {
	const leader = uniqueName('nleader');
	const agent = uniqueName('nagent');
	await createUser(request, { username: leader, roleKey: 'leader' });
	await createUser(request, { username: agent, roleKey: 'agent' });
	const title = `城东停电${Date.now().toString(36)}`;

	// The agent's desk is open before the notice exists.
	const agentContext = await browser.newContext();
	const desk = await agentContext.newPage();
	await signIn(desk, agent);
	await expect(desk.getByTestId('agent-console')).toBeVisible();
	const onDesk = desk.getByRole('region', { name: '故障公告' });
	await expect(onDesk.getByText(title)).toHaveCount(0);

	await signIn(page, leader);
	await page
		.getByRole('navigation', { name: '主导航' })
		.getByRole('link', { name: '故障公告' })
		.click();
	await expect(page.getByRole('heading', { name: '故障公告', level: 1 })).toBeVisible();
	const form = page.getByRole('region', { name: '发布故障公告' });
	await form.getByLabel('标题').fill(title);
	await form
		.getByLabel('公告内容')
		.fill('城东片区今天下午停电检修，有线电视信号中断，预计十八点恢复。');
	await form.getByLabel('区域').fill('城东片区，城北片区');
	// Ending when it starts: refused, with the reason beside the end.
	const starts = await form.getByLabel('开始时间').inputValue();
	const ends = await form.getByLabel('结束时间').inputValue();
	await form.getByLabel('结束时间').fill(starts);
	await form.getByRole('button', { name: '发布' }).click();
	await expect(form.getByText('结束时间须晚于开始时间')).toBeVisible();
	await expect(form.getByLabel('结束时间')).toBeFocused();
	await form.getByLabel('结束时间').fill(ends);
	// Enter publishes, as every form of the product.
	await form.getByLabel('标题').press('Enter');
	await expect(page.getByRole('status')).toHaveText('已保存。');
	const row = page.getByRole('row', { name: new RegExp(title) });
	await expect(row).toContainText('城东片区、城北片区');
	await expect(row).toContainText('生效中');
	await expect(row).toContainText(leader);

	// The open desk gets it through replication, with its areas and end.
	await expect(onDesk).toContainText(title);
	await expect(onDesk).toContainText('城东片区、城北片区');
	await expect(onDesk).toContainText('预计十八点恢复');

	// Withdrawn: gone from the desk.
	page.once('dialog', (dialog) => void dialog.accept());
	await row.getByRole('button', { name: `删除 ${title}` }).click();
	await expect(page.getByRole('status')).toHaveText('已删除。');
	await expect(onDesk.getByText(title)).toHaveCount(0);
	await agentContext.close();
});
