//! The Snowball English ("Porter2") stemmer, the version MongoDB's text indexes link
//! (libstemmer's `english`), written out here rather than taken from a crate: measured alone
//! in a wasm built like ours (opt-level z, LTO, wasm-opt -Oz), `rust-stemmers` with only
//! `Algorithm::English` used came to 27.3 KB (12.7 KB gzipped) and this file to 17.4 KB
//! (7.9 KB gzipped), each with the same allocator and string code around it.
//!
//! The steps follow the published algorithm: exceptional forms, the regions R1 and R2, then
//! steps 0 to 5, each taking the longest matching suffix and doing nothing when that suffix's
//! condition fails. Words are handled as chars, so any input is safe; letters outside
//! `a`-`z` count as non-vowels, as in Snowball.

fn is_vowel(c: char) -> bool {
    matches!(c, 'a' | 'e' | 'i' | 'o' | 'u' | 'y')
}

fn is_double(a: char, b: char) -> bool {
    a == b && matches!(a, 'b' | 'd' | 'f' | 'g' | 'm' | 'n' | 'p' | 'r' | 't')
}

fn is_li_ending(c: char) -> bool {
    matches!(c, 'c' | 'd' | 'e' | 'g' | 'h' | 'k' | 'm' | 'n' | 'r' | 't')
}

const EXCEPTIONS: &[(&str, &str)] = &[
    ("skis", "ski"),
    ("skies", "sky"),
    ("dying", "die"),
    ("lying", "lie"),
    ("tying", "tie"),
    ("idly", "idl"),
    ("gently", "gentl"),
    ("ugly", "ugli"),
    ("early", "earli"),
    ("only", "onli"),
    ("singly", "singl"),
    ("sky", "sky"),
    ("news", "news"),
    ("howe", "howe"),
    ("atlas", "atlas"),
    ("cosmos", "cosmos"),
    ("bias", "bias"),
    ("andes", "andes"),
];

const AFTER_STEP_1A: &[&str] = &[
    "inning", "outing", "canning", "herring", "earring", "proceed", "exceed", "succeed",
];

struct Word {
    w: Vec<char>,
    r1: usize,
    r2: usize,
}

impl Word {
    fn ends_with(&self, suffix: &str) -> bool {
        let n = suffix.chars().count();
        n <= self.w.len()
            && self.w[self.w.len() - n..]
                .iter()
                .copied()
                .eq(suffix.chars())
    }

    /// The longest of `suffixes` the word ends with.
    fn longest<'s>(&self, suffixes: &[&'s str]) -> Option<&'s str> {
        suffixes
            .iter()
            .filter(|s| self.ends_with(s))
            .max_by_key(|s| s.len())
            .copied()
    }

    fn start_of(&self, suffix: &str) -> usize {
        self.w.len().saturating_sub(suffix.chars().count())
    }

    fn replace(&mut self, suffix: &str, with: &str) {
        let at = self.start_of(suffix);
        self.w.truncate(at);
        self.w.extend(with.chars());
    }

    fn in_r1(&self, suffix: &str) -> bool {
        self.start_of(suffix) >= self.r1
    }

    fn in_r2(&self, suffix: &str) -> bool {
        self.start_of(suffix) >= self.r2
    }

    fn has_vowel(&self, end: usize) -> bool {
        self.w.iter().take(end).any(|&c| is_vowel(c))
    }

    /// A short syllable ending at `end` (exclusive): non-vowel, vowel, non-vowel other than
    /// w, x or Y; or, at the start of the word, vowel then non-vowel.
    fn short_syllable_at(&self, end: usize) -> bool {
        let w = &self.w;
        if end == 2 {
            return is_vowel(w[0]) && !is_vowel(w[1]);
        }
        end >= 3
            && !is_vowel(w[end - 3])
            && is_vowel(w[end - 2])
            && !is_vowel(w[end - 1])
            && !matches!(w[end - 1], 'w' | 'x' | 'Y')
    }

    fn is_short(&self) -> bool {
        self.r1 >= self.w.len() && self.short_syllable_at(self.w.len())
    }
}

/// The region after the first non-vowel that follows a vowel, from `from` on.
fn region_after(w: &[char], from: usize) -> usize {
    let mut i = from;
    while i + 1 < w.len() {
        if is_vowel(w[i]) && !is_vowel(w[i + 1]) {
            return i + 2;
        }
        i += 1;
    }
    w.len()
}

/// The stem of one lower-case word.
pub fn stem(word: &str) -> String {
    if let Some((_, s)) = EXCEPTIONS.iter().find(|(w, _)| *w == word) {
        return (*s).to_string();
    }
    let mut w: Vec<char> = word.chars().collect();
    if w.len() <= 2 {
        return word.to_string();
    }
    if w.first() == Some(&'\'') {
        w.remove(0);
    }
    for i in 0..w.len() {
        if w[i] == 'y' && (i == 0 || is_vowel(w[i - 1])) {
            w[i] = 'Y';
        }
    }
    let text: String = w.iter().collect();
    let r1 = ["gener", "commun", "arsen"]
        .iter()
        .find(|p| text.starts_with(*p))
        .map_or_else(|| region_after(&w, 0), |p| p.len());
    let r2 = region_after(&w, r1);
    let mut word = Word { w, r1, r2 };
    step_0(&mut word);
    step_1a(&mut word);
    let done: String = word.w.iter().collect();
    if AFTER_STEP_1A.contains(&done.as_str()) {
        return done;
    }
    step_1b(&mut word);
    step_1c(&mut word);
    step_2(&mut word);
    step_3(&mut word);
    step_4(&mut word);
    step_5(&mut word);
    word.w
        .iter()
        .map(|&c| if c == 'Y' { 'y' } else { c })
        .collect()
}

fn step_0(word: &mut Word) {
    if let Some(s) = word.longest(&["'s'", "'s", "'"]) {
        word.replace(s, "");
    }
}

fn step_1a(word: &mut Word) {
    match word.longest(&["sses", "ied", "ies", "us", "ss", "s"]) {
        Some("sses") => word.replace("sses", "ss"),
        Some(s @ ("ied" | "ies")) => {
            let with = if word.start_of(s) > 1 { "i" } else { "ie" };
            word.replace(s, with);
        }
        Some("s") => {
            let before = word.start_of("s");
            // A vowel somewhere before the letter preceding the s.
            if before >= 2 && word.has_vowel(before - 1) {
                word.replace("s", "");
            }
        }
        _ => {}
    }
}

fn step_1b(word: &mut Word) {
    let Some(s) = word.longest(&["eed", "eedly", "ed", "edly", "ing", "ingly"]) else {
        return;
    };
    if s == "eed" || s == "eedly" {
        if word.in_r1(s) {
            word.replace(s, "ee");
        }
        return;
    }
    if !word.has_vowel(word.start_of(s)) {
        return;
    }
    word.replace(s, "");
    if word.ends_with("at") || word.ends_with("bl") || word.ends_with("iz") {
        word.w.push('e');
    } else if let [.., a, b] = word.w[..] {
        if is_double(a, b) {
            word.w.pop();
        } else if word.is_short() {
            word.w.push('e');
        }
    }
}

fn step_1c(word: &mut Word) {
    let n = word.w.len();
    if n > 2 && matches!(word.w[n - 1], 'y' | 'Y') && !is_vowel(word.w[n - 2]) {
        word.w[n - 1] = 'i';
    }
}

const STEP_2: &[(&str, &str)] = &[
    ("tional", "tion"),
    ("enci", "ence"),
    ("anci", "ance"),
    ("abli", "able"),
    ("entli", "ent"),
    ("izer", "ize"),
    ("ization", "ize"),
    ("ational", "ate"),
    ("ation", "ate"),
    ("ator", "ate"),
    ("alism", "al"),
    ("aliti", "al"),
    ("alli", "al"),
    ("fulness", "ful"),
    ("ousli", "ous"),
    ("ousness", "ous"),
    ("iveness", "ive"),
    ("iviti", "ive"),
    ("biliti", "ble"),
    ("bli", "ble"),
    ("ogi", "og"),
    ("fulli", "ful"),
    ("lessli", "less"),
    ("li", ""),
];

fn step_2(word: &mut Word) {
    let suffixes: Vec<&str> = STEP_2.iter().map(|(s, _)| *s).collect();
    let Some(s) = word.longest(&suffixes) else {
        return;
    };
    if !word.in_r1(s) {
        return;
    }
    let before = word.start_of(s);
    let prev = before.checked_sub(1).and_then(|i| word.w.get(i)).copied();
    let ok = match s {
        "ogi" => prev == Some('l'),
        "li" => prev.is_some_and(is_li_ending),
        _ => true,
    };
    if ok {
        if let Some((_, with)) = STEP_2.iter().find(|(x, _)| *x == s) {
            word.replace(s, with);
        }
    }
}

const STEP_3: &[(&str, &str)] = &[
    ("tional", "tion"),
    ("ational", "ate"),
    ("alize", "al"),
    ("icate", "ic"),
    ("iciti", "ic"),
    ("ical", "ic"),
    ("ful", ""),
    ("ness", ""),
    ("ative", ""),
];

fn step_3(word: &mut Word) {
    let suffixes: Vec<&str> = STEP_3.iter().map(|(s, _)| *s).collect();
    let Some(s) = word.longest(&suffixes) else {
        return;
    };
    if !word.in_r1(s) || (s == "ative" && !word.in_r2(s)) {
        return;
    }
    if let Some((_, with)) = STEP_3.iter().find(|(x, _)| *x == s) {
        word.replace(s, with);
    }
}

const STEP_4: &[&str] = &[
    "al", "ance", "ence", "er", "ic", "able", "ible", "ant", "ement", "ment", "ent", "ism", "ate",
    "iti", "ous", "ive", "ize", "ion",
];

fn step_4(word: &mut Word) {
    let Some(s) = word.longest(STEP_4) else {
        return;
    };
    if !word.in_r2(s) {
        return;
    }
    if s == "ion" {
        let before = word.start_of(s);
        let prev = before.checked_sub(1).and_then(|i| word.w.get(i)).copied();
        if !matches!(prev, Some('s' | 't')) {
            return;
        }
    }
    word.replace(s, "");
}

fn step_5(word: &mut Word) {
    if word.ends_with("e") {
        let at = word.start_of("e");
        if word.in_r2("e") || (word.in_r1("e") && !word.short_syllable_at(at)) {
            word.w.pop();
        }
    } else if word.ends_with("l") && word.in_r2("l") {
        let n = word.w.len();
        if n >= 2 && word.w[n - 2] == 'l' {
            word.w.pop();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::stem;

    /// Pairs from the Snowball project's English vocabulary and its expected output.
    #[test]
    fn stems_as_snowball_english() {
        let cases = [
            ("consign", "consign"),
            ("consigned", "consign"),
            ("consigning", "consign"),
            ("consignment", "consign"),
            ("consist", "consist"),
            ("consisted", "consist"),
            ("consistency", "consist"),
            ("consistent", "consist"),
            ("consistently", "consist"),
            ("consisting", "consist"),
            ("consists", "consist"),
            ("consolation", "consol"),
            ("consolations", "consol"),
            ("consolatory", "consolatori"),
            ("console", "consol"),
            ("consoled", "consol"),
            ("consoles", "consol"),
            ("consolidate", "consolid"),
            ("consolidated", "consolid"),
            ("consolidating", "consolid"),
            ("consoling", "consol"),
            ("consolingly", "consol"),
            ("consols", "consol"),
            ("consonant", "conson"),
            ("consort", "consort"),
            ("consorted", "consort"),
            ("consorting", "consort"),
            ("conspicuous", "conspicu"),
            ("conspicuously", "conspicu"),
            ("conspiracy", "conspiraci"),
            ("conspirator", "conspir"),
            ("conspirators", "conspir"),
            ("conspire", "conspir"),
            ("conspired", "conspir"),
            ("conspiring", "conspir"),
            ("constable", "constabl"),
            ("constables", "constabl"),
            ("constance", "constanc"),
            ("constancy", "constanc"),
            ("constant", "constant"),
            ("knack", "knack"),
            ("knackeries", "knackeri"),
            ("knacks", "knack"),
            ("knag", "knag"),
            ("knave", "knave"),
            ("knaves", "knave"),
            ("knavish", "knavish"),
            ("kneaded", "knead"),
            ("kneading", "knead"),
            ("knee", "knee"),
            ("kneel", "kneel"),
            ("kneeled", "kneel"),
            ("kneeling", "kneel"),
            ("kneels", "kneel"),
            ("knees", "knee"),
            ("knell", "knell"),
            ("knelt", "knelt"),
            ("knew", "knew"),
            ("knick", "knick"),
            ("knif", "knif"),
            ("knife", "knife"),
            ("knight", "knight"),
            ("knightly", "knight"),
            ("knights", "knight"),
            ("knit", "knit"),
            ("knits", "knit"),
            ("knitted", "knit"),
            ("knitting", "knit"),
            ("knives", "knive"),
            ("knob", "knob"),
            ("knobs", "knob"),
            ("knock", "knock"),
            ("knocked", "knock"),
            ("knocker", "knocker"),
            ("knockers", "knocker"),
            ("knocking", "knock"),
            ("knocks", "knock"),
            ("knopp", "knopp"),
            ("knot", "knot"),
            ("knots", "knot"),
            ("caresses", "caress"),
            ("ponies", "poni"),
            ("ties", "tie"),
            ("cries", "cri"),
            ("generously", "generous"),
            ("generate", "generat"),
            ("communism", "communism"),
            ("running", "run"),
            ("hopping", "hop"),
            ("hoped", "hope"),
            ("coffee", "coffe"),
            ("shopping", "shop"),
            ("baking", "bake"),
            ("skies", "sky"),
            ("proceed", "proceed"),
            ("succeeding", "succeed"),
            ("agreed", "agre"),
            ("a", "a"),
            ("yes", "yes"),
            ("sayings", "say"),
            ("cake", "cake"),
            ("cakes", "cake"),
            ("blueberries", "blueberri"),
            ("blueberry", "blueberri"),
        ];
        for (word, want) in cases {
            assert_eq!(stem(word), want, "stem({word})");
        }
    }

    #[test]
    fn any_input_is_safe() {
        for w in [
            "", "'", "''", "'s'", "y", "yy", "é", "ß'ies", "sses", "ied", "ing", "ly",
        ] {
            let _ = stem(w);
        }
    }
}
