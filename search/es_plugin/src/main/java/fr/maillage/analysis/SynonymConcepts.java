package fr.maillage.analysis;

import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.lucene.analysis.Analyzer;
import org.apache.lucene.analysis.CharArrayMap;
import org.apache.lucene.analysis.synonym.SolrSynonymParser;
import org.apache.lucene.analysis.synonym.SynonymMap;
import org.apache.lucene.util.CharsRefBuilder;

/**
 * Synonym rules whose multi-word forms are one term: {@code §n} stands for every form of two words or more of rule
 * {@code n} ("réseau mobile", "mobile network", "réseau cellulaire"...). The text gets {@code §n} where it holds such a
 * form; a query's form (one word or more) becomes the rule's one-word forms and {@code §n}, which matches the
 * profiles the synonym graph matched, by a few term lookups instead of a phrase per multi-word form, each checked
 * by positions over every hit. One-word forms stay words: marking them would add a term to the text for every
 * word a rule names. Forms are analyzed with a {@link Chains} chain, so they are the words the text has.
 *
 * <p>"a, b, c": every form in both the text and queries. "a, b => c": a query's "a" or "b" becomes "c" (its words
 * or its concept). "§" never ends up in a token of the standard tokenizer, so a concept cannot collide with a word.
 */
final class SynonymConcepts {
    static final String PREFIX = "§";
    static final String TYPE = "SYNONYM";
    static final char WORD_SEPARATOR = SynonymMap.WORD_SEPARATOR;

    /** Multi-word forms found in the text (their words joined by {@link #WORD_SEPARATOR}) -> their concepts. */
    final Map<String, String[]> indexed;
    /** Forms found in queries -> the terms replacing them: one-word forms and concepts. */
    final Map<String, String[]> queried;
    /** First word of a queried form -> the most words such a form has. */
    final CharArrayMap<Integer> queriedFrom;
    /** Last word of an indexed form -> the most words such a form has. */
    final CharArrayMap<Integer> indexedTo;
    /** The most words an indexed form has. */
    final int longestIndexed;

    SynonymConcepts(List<String> rules, String chain) {
        Map<String, Set<String>> indexed = new HashMap<>();
        Map<String, Set<String>> queried = new HashMap<>();
        this.queriedFrom = new CharArrayMap<>(64, false);
        this.indexedTo = new CharArrayMap<>(64, false);
        try (Analyzer analyzer = Chains.analyzer(chain)) {
            SolrSynonymParser parser = new SolrSynonymParser(true, true, analyzer);
            for (int n = 0; n < rules.size(); n++) {
                String rule = rules.get(n);
                String concept = PREFIX + n;
                try {
                    String[] sides = rule.split("=>", -1);
                    if (sides.length > 2) {
                        throw new IllegalArgumentException("more than one '=>'");
                    }
                    List<String> left = forms(sides[0], parser);
                    List<String> right = sides.length == 2 ? forms(sides[1], parser) : left;
                    Set<String> terms = new LinkedHashSet<>();
                    for (String form : right) {
                        if (wordCount(form) == 1) {
                            terms.add(form);
                        } else {
                            terms.add(concept);
                            indexed.computeIfAbsent(form, f -> new LinkedHashSet<>()).add(concept);
                            longest(indexedTo, form.substring(form.lastIndexOf(WORD_SEPARATOR) + 1), form);
                        }
                    }
                    for (String form : left) {
                        queried.computeIfAbsent(form, f -> new LinkedHashSet<>()).addAll(terms);
                        int firstEnd = form.indexOf(WORD_SEPARATOR);
                        longest(queriedFrom, firstEnd < 0 ? form : form.substring(0, firstEnd), form);
                    }
                } catch (IOException | IllegalArgumentException e) {
                    throw new IllegalArgumentException("invalid synonym rule [" + rule + "]: " + e.getMessage(), e);
                }
            }
        }
        this.longestIndexed = indexed.keySet().stream().mapToInt(SynonymConcepts::wordCount).max().orElse(0);
        this.indexed = frozen(indexed);
        this.queried = frozen(queried);
    }

    /** The rule side's forms as analyzed words; a form the chain reduces to nothing is an error, as in Solr. */
    private static List<String> forms(String side, SynonymMap.Parser parser) throws IOException {
        List<String> forms = new ArrayList<>();
        for (String form : split(side)) {
            if (!form.isEmpty()) {
                forms.add(parser.analyze(form, new CharsRefBuilder()).toString());
            }
        }
        return forms;
    }

    private static int wordCount(String form) {
        return (int) form.chars().filter(c -> c == WORD_SEPARATOR).count() + 1;
    }

    private static void longest(CharArrayMap<Integer> byWord, String word, String form) {
        int length = wordCount(form);
        Integer known = byWord.get(word);
        if (known == null || known < length) {
            byWord.put(word, length);
        }
    }

    /** The comma-separated forms of a rule side, with Solr's backslash escapes ("\," is a comma). */
    static List<String> split(String side) {
        List<String> forms = new ArrayList<>();
        StringBuilder form = new StringBuilder();
        for (int i = 0; i < side.length(); i++) {
            char c = side.charAt(i);
            if (c == '\\' && i + 1 < side.length()) {
                form.append(side.charAt(++i));
            } else if (c == ',') {
                forms.add(form.toString().strip());
                form.setLength(0);
            } else {
                form.append(c);
            }
        }
        forms.add(form.toString().strip());
        return forms;
    }

    private static Map<String, String[]> frozen(Map<String, Set<String>> forms) {
        Map<String, String[]> out = new HashMap<>();
        forms.forEach((form, concepts) -> out.put(form, concepts.toArray(String[]::new)));
        return Map.copyOf(out);
    }
}
