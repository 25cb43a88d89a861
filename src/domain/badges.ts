/** The nine badges of SPEC §1. Awards are rows in badge_awards; these are their definitions. */
export type BadgeMetric = 'wins' | 'topArguments' | 'participations' | 'votes' | 'beta' | 'wallet';

export interface BadgeDefinition {
  key: string;
  name: string;
  icon: string;
  description: string;
  metric: BadgeMetric;
  target: number;
  /** Noun used in progress texts such as "2/5 wins". */
  unit: string;
  bonus: number;
}

export const BADGES: readonly BadgeDefinition[] = [
  { key: 'first_win', name: 'First Victory', icon: '🏆', description: 'Win 1 case', metric: 'wins', target: 1, unit: 'wins', bonus: 50 },
  { key: 'five_wins', name: 'Winning Streak', icon: '🔥', description: 'Win 5 cases', metric: 'wins', target: 5, unit: 'wins', bonus: 200 },
  { key: 'ten_wins', name: 'Champion', icon: '👑', description: 'Win 10 cases', metric: 'wins', target: 10, unit: 'wins', bonus: 500 },
  { key: 'master_debater', name: 'Master Debater', icon: '💬', description: 'Place 1 argument in a top 3', metric: 'topArguments', target: 1, unit: 'top-3 arguments', bonus: 100 },
  { key: 'persuasion_expert', name: 'Persuasion Expert', icon: '🎯', description: 'Place 3 arguments in a top 3', metric: 'topArguments', target: 3, unit: 'top-3 arguments', bonus: 300 },
  { key: 'active_member', name: 'Active Member', icon: '⭐', description: 'Take part in 20 cases', metric: 'participations', target: 20, unit: 'participations', bonus: 150 },
  { key: 'dedicated_voter', name: 'Dedicated Voter', icon: '🗳️', description: 'Cast 50 votes', metric: 'votes', target: 50, unit: 'votes', bonus: 250 },
  { key: 'early_adopter', name: 'Early Adopter', icon: '🚀', description: 'Join as a beta user', metric: 'beta', target: 1, unit: 'beta membership', bonus: 100 },
  { key: 'blockchain_ready', name: 'Blockchain Ready', icon: '🔗', description: 'Connect a wallet', metric: 'wallet', target: 1, unit: 'wallet', bonus: 50 },
];

export const badgeByKey = new Map(BADGES.map((b) => [b.key, b]));
