"""Seeded test-string generator shared by gen_tokenizer_golden.py and tokenize_live.py.

Strings are drawn across every Unicode general category of the pinned Python (3.7 / Unicode 11.0.0),
plus a hand-written adversarial set. Surrogates (Cs) cannot travel as UTF-8 JSON and cannot exist in a
Swift String, so category Cs is represented by U+FFFD, what a JSON decoder gives for a lone surrogate.
"""
import random
import sys
import unicodedata

CATEGORIES = ['Lu', 'Ll', 'Lt', 'Lm', 'Lo', 'Mn', 'Mc', 'Me', 'Nd', 'Nl', 'No', 'Pc', 'Pd', 'Ps', 'Pe', 'Pi',
              'Pf', 'Po', 'Sm', 'Sc', 'Sk', 'So', 'Zs', 'Zl', 'Zp', 'Cc', 'Cf', 'Cn', 'Co', 'Cs']

# Assigned after Unicode 11.0: category Cn (deleted) in the original.
NEWER_THAN_11 = [0x1F971, 0x1FAE0, 0x30000, 0x1F6D5, 0x1F97B, 0x1FA70, 0x0D04, 0x1E2C0, 0x31350, 0x2B739]

WORDS = ['the', 'quick', 'brown', 'fox', 'jumps', 'over', 'lazy', 'dog', 'unaffable', 'Jacksonville',
         'naïve', 'café', 'résumé', 'Zürich', 'straße', 'ΣΊΣΥΦΟΣ', 'Ὀδυσσεύς', 'İstanbul', 'ǅemal',
         'hello', 'world', 'BERT', 'tokenization', 'don\'t', 'U.S.A.', 'e-mail', '3.14159', '1,000,000',
         'München', 'Ελλάδα', 'москва', '北京', '東京', 'ソウル', '서울', 'القاهرة', 'ﬁnance', 'ǆ', 'ﬀ', 'Ⅻ']

ADVERSARIAL = [
    '', ' ', '   ', '\t', '\n', '\r\n', 'a', 'A', '.', '...', '!!!???', '¿¡', '“quoted”', '«guillemets»',
    'Hello, World!', 'hello world', 'HELLO WORLD', 'unaffable', 'UNAFFABLE', "Don't stop-believing.",
    '[CLS]', '[SEP]', '[UNK]', '[PAD]', '[MASK]', '[CLS] hello [SEP]', '[unk] [cls]', '##ing', 'un##aff',
    'a ||| b', 'a|||b', 'a ||| b ||| c', 'a ||| ||| b', ' ||| ', 'a ||| ', ' ||| b', '|||', '||| a',
    'a |||b', 'a||| b', 'first sentence ||| second sentence is a lot longer than the first one',
    'line one\nline two ||| pair?', 'a ||| b\nc', 'tab\t||| sep', 'a\u2028||| b', 'a ||| b\u0085',
    'café', 'cafe\u0301', 'CAFÉ', 'CAFE\u0301', 'Å', 'A\u030a', '\u212b', 'ﬁ', 'ǅ', 'ß', 'ẞ', 'İ', 'ı',
    'ΣΑΣ', 'ΌΣΟΣ', 'Σ', 'ΑΣ', 'Α\u0301Σ', 'ΑΣ\u0301', 'ΑΣΑ', 'Σ.Σ', 'aΣ', 'a\u00adΣ', 'Σ\u00ad',
    'q\u0307\u0323', 'q\u0323\u0307', 'a\u0301\u0316\u0300', 'e\u0302\u0323', '\u1e69\u0307',
    '\u0344', '\u0f73', '\u0f75', '\u0f81', '\u1d15e', '\u2126', '\u0958', '\ufb1d', '\u2adc',
    'x\u0345y', '\u0345', '\u0301', '\u0301\u0301abc', 'ἀ\u0345', 'ᾼ', 'ﾃｽﾄ', 'ｔｅｓｔ', 'ｈｅｌｌｏ１２３',
    '한국어', '한국어 텍스트', '한', '각', '\uac00\u11a8', '힣', '中文分词测试', '中A文b', '日本語のテキスト',
    'ひらがな カタカナ', '𠀀𪚥𫝀', '\U0002f800\U0002fa1d', '\uf900\ufa6d', '\u3400\u4dbf', '\u9fff\u9fef',
    '😀', '😀😀😀', '👍🏽', '👨\u200d👩\u200d👧\u200d👦', '🏳️\u200d🌈', '🇯🇵', '1️⃣', '#️⃣', '©️', '❤️',
    '\U0001f971', '\U0001fae0', '\U00030000', 'yawn\U0001f971face', 'x\U00030000y',
    '\u200b', 'zero\u200bwidth', 'zero\u200cnon\u200djoiner', '\ufeffbom', 'soft\u00adhyphen',
    'a\u00a0b', 'a\u3000b', 'a\u2028b', 'a\u2029b', 'a\u0085b', 'a\u1680b', 'a\u2007b', 'a\u202fb',
    'a\u205fb', 'a\u180eb', 'a\u000bb', 'a\u000cb', 'a\u001cb', 'a\u001fb', 'a\u007fb', 'a\u0080b',
    'a\u009fb', 'a\x00b', '\x00', 'a\ufffdb', '\ufffd', 'a\ue000b', '\U000f0000', '\U0010fffd',
    '\U0010ffff', 'a\ufffeb', 'a\uffffb', '\u0600\u0601', 'a\u061cb', 'rtl\u202ebackwards\u202c',
    '\u2066iso\u2069', '\U000e0001\U000e0041', '\u00ad', '\u034f', '\u17b4', '\u2060', '\u2064',
    'tab\there', 'cr\rhere', 'lf\nhere', 'many     spaces', '  leading', 'trailing  ', ' \t\n mixed \r\n ',
    'a' * 99, 'a' * 100, 'a' * 101, 'ab' * 60, 'x' * 200 + ' tail', ('α' * 100) + '\u0301',
    'e' + '\u0301' * 120, 'supercalifragilisticexpialidocious' * 3, 'antidisestablishmentarianism',
    '!' * 50, '.-,;:' * 20, '$%^&*()_+{}|:"<>?~`', '¡¿‽⁇⁈⁉', '—–‐‑‒―', '‘’‚‛“”„‟', '†‡•‣․‥…‧',
    '《》「」『』【】〔〕', '、。〃〈〉', '\u055a\u055f\u0589', '\u05be\u05c0\u05c3', '\u060c\u061b\u061f',
    '$100', '€50', '£20', '¥1000', '₿', '1+1=2', '∑∫∂√∞', '←↑→↓', '©®™', '°C', '½¼¾', '²³¹', 'Ⅰ Ⅱ Ⅲ',
    '১২৩', '٠١٢٣', '०१२', '𝟘𝟙𝟚', '𝐀𝐁𝐂', '𝕬𝕭𝕮', 'ℌℑℜ', 'ǲ', 'ᾈ', 'ᾨ', 'ꭰ', 'Ꭰ', 'ᏸ', 'ⓐⓑⓒ', 'ⒶⒷⒸ',
    'http://example.com/path?query=1&x=y#frag', 'user@example.com', 'C++ and C# and F#', '#hashtag @mention',
    'It\'s 5 o\'clock.', 'U.S.A.', 'e.g., i.e., etc.', '3.14', '-42', '+7', '1e-10', '0x1F', '12:30pm',
]


class Generator(object):
    def __init__(self, seed):
        self.rng = random.Random(seed)
        self.by_category = {}
        for cp in range(0x110000):
            cat = unicodedata.category(chr(cp))
            self.by_category.setdefault(cat, []).append(cp)
        # Surrogates cannot be sent; U+FFFD is what the server sees instead.
        self.by_category['Cs'] = [0xFFFD]
        self.by_category['Cn'] = self.by_category['Cn'] + NEWER_THAN_11 * 50

    def char(self, cat):
        return chr(self.rng.choice(self.by_category[cat]))

    def word(self):
        w = self.rng.choice(WORDS)
        r = self.rng.random()
        if r < 0.2:
            w = w.upper()
        elif r < 0.3:
            w = w.capitalize()
        return w

    def category_string(self, cat):
        """A string dominated by one general category, mixed with words, spaces and punctuation."""
        parts = []
        for _ in range(self.rng.randint(1, 6)):
            r = self.rng.random()
            if r < 0.55:
                parts.append(''.join(self.char(cat) for _ in range(self.rng.randint(1, 5))))
            elif r < 0.8:
                parts.append(self.word())
            elif r < 0.9:
                parts.append(self.word() + self.char(cat) + self.word())
            else:
                parts.append(self.rng.choice(['.', ',', '!', '?', '-', "'", '"', '(', ')']))
        seps = [' ', ' ', ' ', '', '  ', '\t', '\n']
        out = ''
        for p in parts:
            out += p + self.rng.choice(seps)
        return out

    def mixed_string(self):
        """Any-category soup, sometimes very long, sometimes a ' ||| ' pair."""
        n = self.rng.choice([3, 8, 20, 60, 150, 400])
        pieces = []
        for _ in range(n):
            r = self.rng.random()
            if r < 0.5:
                pieces.append(self.word())
            elif r < 0.85:
                pieces.append(self.char(self.rng.choice(CATEGORIES)))
            else:
                pieces.append(self.rng.choice([' ', ' ', '\t', '.', ',', '\u00a0', '\u3000']))
        text = ' '.join(pieces) if self.rng.random() < 0.7 else ''.join(pieces)
        if self.rng.random() < 0.3:
            cut = self.rng.randint(0, len(text))
            text = text[:cut] + self.rng.choice([' ||| ', '|||', ' ||| ', ' |||', '||| ']) + text[cut:]
        return text

    def token_list(self):
        """A pre-tokenized input (is_tokenized): vocab-looking words, odd strings, '|||' separators."""
        n = self.rng.choice([0, 1, 3, 10, 30, 80])
        out = []
        for _ in range(n):
            r = self.rng.random()
            if r < 0.5:
                out.append(self.word().lower())
            elif r < 0.6:
                out.append(self.word())
            elif r < 0.7:
                out.append(self.rng.choice(['[CLS]', '[SEP]', '[UNK]', '[MASK]', '##ing', '##s', ',', '.',
                                            '', ' ', 'café', 'cafe\u0301', '中']))
            elif r < 0.8:
                out.append('|||')
            else:
                out.append(self.category_string(self.rng.choice(CATEGORIES)).strip())
        return out


def category_corpus(gen, per_category):
    out = []
    for cat in CATEGORIES:
        for _ in range(per_category):
            out.append((cat, gen.category_string(cat)))
    return out


if __name__ == '__main__':
    g = Generator(int(sys.argv[1]) if len(sys.argv) > 1 else 0)
    for _ in range(5):
        print(repr(g.mixed_string()))
