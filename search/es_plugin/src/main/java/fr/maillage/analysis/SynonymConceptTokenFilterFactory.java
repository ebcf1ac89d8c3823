package fr.maillage.analysis;

import org.apache.lucene.analysis.TokenStream;
import org.elasticsearch.plugin.Inject;
import org.elasticsearch.plugin.NamedComponent;
import org.elasticsearch.plugin.analysis.AnalysisMode;
import org.elasticsearch.plugin.analysis.TokenFilterFactory;
import org.elasticsearch.plugin.settings.AnalysisSettings;
import org.elasticsearch.plugin.settings.StringSetting;

/**
 * Synonyms with concept terms for their multi-word forms ({@link SynonymConcepts}): the same rules, in the same Solr
 * syntax, as {@code maillage_synonym_graph}, for fields searched often over many hits. The text is indexed with the
 * concepts of the forms it holds ({@code "mode": "index"}) and a query's forms become the rule's words and concept
 * ({@code "mode": "search"}): "cybersécurité" asks for "cybersecurit", "cybersecurity" and "§16", where the graph
 * asked for the phrase "cyber security" over every hit. Both analyzers must use the same rules and chain; changing
 * the rules needs a reindex.
 */
@NamedComponent("maillage_synonym_concepts")
public final class SynonymConceptTokenFilterFactory implements TokenFilterFactory {
    static final String INDEX = "index";
    static final String SEARCH = "search";

    @AnalysisSettings
    public interface Settings extends SynonymRuleSettings {
        @StringSetting(path = "mode", defaultValue = INDEX)
        String mode();
    }

    private final SynonymConcepts concepts;
    private final boolean search;

    @Inject
    public SynonymConceptTokenFilterFactory(Settings settings) {
        if (!INDEX.equals(settings.mode()) && !SEARCH.equals(settings.mode())) {
            throw new IllegalArgumentException(
                "maillage_synonym_concepts: unknown mode [" + settings.mode() + "], expected [" + INDEX + "] or ["
                    + SEARCH + "]");
        }
        this.concepts = new SynonymConcepts(settings.synonyms(), settings.analysis());
        this.search = SEARCH.equals(settings.mode());
    }

    @Override
    public TokenStream create(TokenStream tokenStream) {
        if (search) {
            return concepts.queried.isEmpty() ? tokenStream : new SynonymConceptQueryFilter(tokenStream, concepts);
        }
        return concepts.indexed.isEmpty() ? tokenStream : new SynonymConceptIndexFilter(tokenStream, concepts);
    }

    @Override
    public AnalysisMode getAnalysisMode() {
        return search ? AnalysisMode.SEARCH_TIME : AnalysisMode.INDEX_TIME;
    }
}
