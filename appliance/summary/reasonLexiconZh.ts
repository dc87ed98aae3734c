/**
 * Chinese banking phrases mapped to BANKING77 labels, for the reason of a Mandarin call: the
 * shipped Chinese intent model (CrossWOZ) knows travel intents only, so a Mandarin banking call's
 * reason comes from these phrases. Written from common banking wording, first match wins.
 */
const LEXICON: readonly [RegExp, string][] = [
  [/挂失|卡(?:丢了|丢失|被偷|不见了)|(?:丢了|丢失|弄丢)了?(?:银行|信用|借记)?卡/, 'lost_or_stolen_card'],
  [/盗刷|被人刷|不是我(?:刷|消费|买)|不认识的(?:消费|扣款)/, 'card_payment_not_recognised'],
  [/吞卡|卡被(?:取款机|ATM)?吞/, 'card_swallowed'],
  [/激活/, 'activate_my_card'],
  [/退款.{0,12}(?:没|未|还没)(?:到账|收到)|(?:没|未)收到.{0,6}退款/, 'Refund_not_showing_up'],
  [/退款/, 'request_refund'],
  [/转.{0,16}(?:没|未|还没)(?:收到|到账)|(?:没|未)收到.{0,6}转账/, 'transfer_not_received_by_recipient'],
  [/转账.{0,6}(?:失败|被拒|转不了)|转不了账/, 'declined_transfer'],
  [/密码.{0,6}(?:锁|冻结)|输错.{0,4}密码/, 'pin_blocked'],
  [/忘(?:记|了).{0,4}密码|密码忘/, 'passcode_forgotten'],
  [/(?:改|修改|更改)密码/, 'change_pin'],
  [/扣了两次|重复扣款|扣款两次/, 'transaction_charged_twice'],
  [/汇率/, 'exchange_rate'],
  [/销户|注销(?:账户|帐户)|关闭(?:账户|帐户)/, 'terminate_account'],
  [/余额.{0,6}(?:没|未)(?:变|更新|到账)/, 'balance_not_updated_after_bank_transfer'],
  [/(?:新卡|卡).{0,6}(?:还没到|没收到|什么时候到)/, 'card_arrival'],
];

/** The BANKING77 label a Mandarin caller sentence names, or null. */
export function reasonFromZhText(text: string): string | null {
  for (const [re, label] of LEXICON) if (re.test(text)) return label;
  return null;
}
