// The field page's three languages: every English message has a Bangla and a Khmer one, with the same {placeholders},
// written in the language's own script (a message left in English would pass the type check but not a reader).
import t from 'tap'
import { bn } from '../../web/src/i18n/bn.js'
import { en } from '../../web/src/i18n/en.js'
import { km } from '../../web/src/i18n/km.js'

const placeholders = (text: string) => [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort()
const SCRIPTS = { bn: /[\u0980-\u09FF]/, km: /[\u1780-\u17FF]/ }
// Words that stay as they are in every language.
const SAME_EVERYWHERE = new Set(['footer_api'])

for (const [lang, messages] of [['bn', bn], ['km', km]] as const) {
  t.test(`${lang} has every message, with the same placeholders, in its own script`, async (t) => {
    t.same(Object.keys(messages).sort(), Object.keys(en).sort(), 'the same keys as English')
    for (const [key, english] of Object.entries(en)) {
      const text = (messages as Record<string, string>)[key]
      t.ok(text?.trim(), `${key} is not empty`)
      t.same(placeholders(text ?? ''), placeholders(english), `${key}: placeholders`)
      if (!SAME_EVERYWHERE.has(key)) t.match(text, SCRIPTS[lang], `${key} is written in ${lang} script`)
    }
  })
}
