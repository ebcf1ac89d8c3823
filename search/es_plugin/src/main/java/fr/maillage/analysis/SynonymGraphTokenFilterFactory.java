package fr.maillage.analysis;

import java.io.IOException;
import java.io.StringReader;
import java.text.ParseException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.apache.lucene.analysis.Analyzer;
import org.apache.lucene.analysis.TokenStream;
import org.apache.lucene.analysis.synonym.SolrSynonymParser;
import org.apache.lucene.analysis.synonym.SynonymGraphFilter;
import org.apache.lucene.analysis.synonym.SynonymMap;
import org.apache.lucene.util.CharsRef;
import org.apache.lucene.util.CharsRefBuilder;
import org.elasticsearch.plugin.Inject;
import org.elasticsearch.plugin.NamedComponent;
import org.elasticsearch.plugin.analysis.AnalysisMode;
import org.elasticsearch.plugin.analysis.TokenFilterFactory;
import org.elasticsearch.plugin.settings.AnalysisSettings;
import org.elasticsearch.plugin.settings.BooleanSetting;

/**
 * Query-time synonyms from rules given in the index settings, in Solr syntax ("a, b, c" or "a, b => c").
 *
 * <p>Each rule is analyzed with the chain named by the "analysis" setting (see {@link Chains}), the same one
 * that precedes this filter in the search analyzer, so "e-payment" becomes the two-token path "e payment" and
 * "Sécurité informatique" becomes the stems the indexed text has. Search-time only: a graph filter cannot be
 * indexed faithfully, and keeping synonyms out of the index means changing them needs no reindex of the text.
 */
@NamedComponent("maillage_synonym_graph")
public final class SynonymGraphTokenFilterFactory implements TokenFilterFactory {
    @AnalysisSettings
    public interface Settings extends SynonymRuleSettings {
        /** "a, b" means a <-> b when true; only a, b -> a when false (Solr semantics). */
        @BooleanSetting(path = "expand", defaultValue = true)
        boolean expand();
    }

    private final SynonymMap synonymMap;

    @Inject
    public SynonymGraphTokenFilterFactory(Settings settings) {
        List<String> rules = settings.synonyms();
        Analyzer analyzer = Chains.analyzer(settings.analysis());
        try {
            SolrSynonymParser parser = new SolrSynonymParser(true, settings.expand(), analyzer);
            for (String rule : rules) {
                // Rule by rule, so an error names the offending rule rather than a line number.
                try {
                    parser.parse(new StringReader(withoutRepeatedForms(rule, parser)));
                } catch (ParseException | IllegalArgumentException e) {
                    throw new IllegalArgumentException("invalid synonym rule [" + rule + "]: " + e.getMessage(), e);
                }
            }
            this.synonymMap = parser.build();
        } catch (IOException e) {
            throw new IllegalStateException("cannot build the synonym map", e);
        } finally {
            analyzer.close();
        }
    }

    /**
     * The rule without the forms that analyze to the same words as an earlier form of it.
     *
     * <p>Bilingual lists name singular and plural, accented and plain spellings ("réseau, network, réseaux,
     * networks"), which the chain reduces to the same stems. Each repeated form would give the query one more
     * identical clause per field ("reseau" twice beside "network"), scored over every profile holding the word.
     * Explicit mappings ("a => b") and rules with escapes are left as written.
     */
    static String withoutRepeatedForms(String rule, SynonymMap.Parser parser) throws IOException {
        if (rule.contains("=>") || rule.indexOf('\\') >= 0) {
            return rule;
        }
        Set<CharsRef> seen = new HashSet<>();
        List<String> kept = new ArrayList<>();
        for (String form : rule.split(",")) {
            String trimmed = form.strip();
            if (!trimmed.isEmpty() && seen.add(parser.analyze(trimmed, new CharsRefBuilder()))) {
                kept.add(trimmed);
            }
        }
        return String.join(", ", kept);
    }

    @Override
    public TokenStream create(TokenStream tokenStream) {
        // An empty rule list gives a map without an FST, which SynonymGraphFilter rejects.
        return synonymMap.fst == null ? tokenStream : new SynonymGraphFilter(tokenStream, synonymMap, false);
    }

    @Override
    public AnalysisMode getAnalysisMode() {
        return AnalysisMode.SEARCH_TIME;
    }
}
