/**
 * A sample routing configuration for a retail bank on the BANKING77 intents: seven skill groups
 * plus a general desk, one senior and one regular agent per group, complaint intents and
 * de-escalation scripts. Used by `make eval-routing`, the tests and as a starting point for a site
 * (PUT /api/v1/routing/config). Agent URIs are placeholders: a site replaces them with its phones.
 */
import type { RoutingConfigInput } from './schemas.js';

const GROUPS: Record<string, { name: string; intents: string[]; adjacent: string[] }> = {
  cards: {
    name: 'Cards',
    adjacent: ['security', 'general'],
    intents: [
      'activate_my_card',
      'apple_pay_or_google_pay',
      'card_about_to_expire',
      'card_acceptance',
      'card_arrival',
      'card_delivery_estimate',
      'card_linking',
      'card_not_working',
      'card_swallowed',
      'change_pin',
      'contactless_not_working',
      'disposable_card_limits',
      'get_disposable_virtual_card',
      'get_physical_card',
      'getting_spare_card',
      'getting_virtual_card',
      'order_physical_card',
      'pin_blocked',
      'supported_cards_and_currencies',
      'virtual_card_not_working',
      'visa_or_mastercard',
    ],
  },
  security: {
    name: 'Fraud and security',
    adjacent: ['cards', 'payments'],
    intents: [
      'cash_withdrawal_not_recognised',
      'card_payment_not_recognised',
      'compromised_card',
      'direct_debit_payment_not_recognised',
      'lost_or_stolen_card',
      'lost_or_stolen_phone',
      'passcode_forgotten',
    ],
  },
  payments: {
    name: 'Card payments and refunds',
    adjacent: ['transfers', 'cash'],
    intents: [
      'Refund_not_showing_up',
      'card_payment_fee_charged',
      'card_payment_wrong_exchange_rate',
      'declined_card_payment',
      'extra_charge_on_statement',
      'pending_card_payment',
      'request_refund',
      'reverted_card_payment?',
      'transaction_charged_twice',
    ],
  },
  transfers: {
    name: 'Transfers',
    adjacent: ['payments', 'topup'],
    intents: [
      'balance_not_updated_after_bank_transfer',
      'beneficiary_not_allowed',
      'cancel_transfer',
      'declined_transfer',
      'failed_transfer',
      'pending_transfer',
      'receiving_money',
      'transfer_fee_charged',
      'transfer_into_account',
      'transfer_not_received_by_recipient',
      'transfer_timing',
    ],
  },
  topup: {
    name: 'Top-ups',
    adjacent: ['transfers', 'payments'],
    intents: [
      'automatic_top_up',
      'balance_not_updated_after_cheque_or_cash_deposit',
      'pending_top_up',
      'top_up_by_bank_transfer_charge',
      'top_up_by_card_charge',
      'top_up_by_cash_or_cheque',
      'top_up_failed',
      'top_up_limits',
      'top_up_reverted',
      'topping_up_by_card',
      'verify_top_up',
    ],
  },
  cash: {
    name: 'Cash and currency exchange',
    adjacent: ['payments', 'general'],
    intents: [
      'atm_support',
      'cash_withdrawal_charge',
      'declined_cash_withdrawal',
      'exchange_charge',
      'exchange_rate',
      'exchange_via_app',
      'fiat_currency_support',
      'pending_cash_withdrawal',
      'wrong_amount_of_cash_received',
      'wrong_exchange_rate_for_cash_withdrawal',
    ],
  },
  account: {
    name: 'Account and identity',
    adjacent: ['general'],
    intents: [
      'age_limit',
      'country_support',
      'edit_personal_details',
      'terminate_account',
      'unable_to_verify_identity',
      'verify_my_identity',
      'verify_source_of_funds',
      'why_verify_identity',
    ],
  },
  general: { name: 'General enquiries', adjacent: ['account'], intents: [] },
};

const AGENT_NAMES = ['ada', 'ben', 'cleo', 'dev', 'eli', 'fay', 'gus', 'hana', 'ivo', 'jun', 'kim', 'lea', 'max', 'nia', 'oto', 'pia'];

/** The sample; `agentUri(agentId)` builds each agent's SIP URI (default sip:<id>@agents.invalid). */
export function banking77Sample(agentUri: (agentId: string) => string = (id) => `sip:${id}@agents.invalid`): RoutingConfigInput {
  const groups = Object.entries(GROUPS).map(([id, g]) => ({
    id,
    name: g.name,
    intents: g.intents,
    adjacent: g.adjacent,
    overflow: { maxWaitMs: 300_000, action: id === 'general' ? ('callback' as const) : ('adjacent' as const) },
  }));
  const agents = groups.flatMap((g, i) => {
    const senior = AGENT_NAMES[2 * i]!;
    const regular = AGENT_NAMES[2 * i + 1]!;
    return [
      {
        id: senior,
        name: senior,
        sipUri: agentUri(senior),
        senior: true,
        skills: [{ group: g.id, level: 5 }, ...g.adjacent.map((a) => ({ group: a, level: 2 }))],
      },
      { id: regular, name: regular, sipUri: agentUri(regular), senior: false, skills: [{ group: g.id, level: 3 }] },
    ];
  });
  return {
    groups,
    agents: agents.map((a) => ({ ...a, state: 'available' as const })),
    rules: {
      defaultGroup: 'general',
      // ASR transcripts are less certain than typed text: a call whose top intent is out of scope still
      // goes to the group whose intents together reach 0.2 (make eval-routing measures both sides).
      groupMassThreshold: 0.2,
      complaintIntents: [
        'card_payment_not_recognised',
        'compromised_card',
        'extra_charge_on_statement',
        'Refund_not_showing_up',
        'request_refund',
        'terminate_account',
        'transaction_charged_twice',
        'wrong_amount_of_cash_received',
      ],
    },
    scripts: [
      {
        id: 'fraud-reassure',
        title: 'Worried caller with a security issue',
        when: { alertKinds: ['caller_angry', 'caller_escalating'], groups: ['security'] },
        steps: [
          'Say first that the card or account can be blocked right now, and do it before anything else.',
          'Confirm what has been secured in one sentence.',
          'Explain the refund investigation and give a concrete date for the next update.',
        ],
      },
      {
        id: 'charges-dispute',
        title: 'Angry about a charge or a missing refund',
        when: { alertKinds: ['caller_angry', 'caller_escalating'], groups: ['payments', 'cash'] },
        steps: [
          'Acknowledge the amount and the inconvenience without arguing about the cause yet.',
          'Read back the transaction you are looking at so the caller hears it is the right one.',
          'Offer the concrete next step (dispute, refund, fee reversal) and when it takes effect.',
        ],
      },
    ],
  };
}
