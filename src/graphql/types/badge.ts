import { BADGES, type BadgeDefinition } from '../../domain/badges.js';
import { builder } from '../builder.js';

export const Badge = builder.objectRef<BadgeDefinition>('Badge').implement({
  fields: (t) => ({
    key: t.exposeString('key'),
    name: t.exposeString('name'),
    icon: t.exposeString('icon'),
    description: t.exposeString('description'),
    target: t.exposeInt('target'),
    bonus: t.exposeInt('bonus', { description: 'Points awarded once with the badge.' }),
  }),
});

builder.queryFields((t) => ({
  badges: t.field({ type: [Badge], resolve: () => BADGES }),
}));
