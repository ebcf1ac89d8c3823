package fr.maillage.analysis;

import org.apache.lucene.analysis.TokenStream;
import org.apache.lucene.analysis.ngram.EdgeNGramTokenFilter;
import org.elasticsearch.plugin.Inject;
import org.elasticsearch.plugin.NamedComponent;
import org.elasticsearch.plugin.analysis.AnalysisMode;
import org.elasticsearch.plugin.analysis.TokenFilterFactory;
import org.elasticsearch.plugin.settings.AnalysisSettings;
import org.elasticsearch.plugin.settings.BooleanSetting;
import org.elasticsearch.plugin.settings.IntSetting;

/**
 * Prefixes of each token for suggestions as you type: "reseau" -> "re", "res", ..., "reseau". Index-time only:
 * the query side must see whole words, or every prefix of the query would match.
 */
@NamedComponent("maillage_edge_ngram")
public final class EdgeNGramTokenFilterFactory implements TokenFilterFactory {
    @AnalysisSettings
    public interface Settings {
        @IntSetting(path = "min_gram", defaultValue = 2)
        int minGram();

        @IntSetting(path = "max_gram", defaultValue = 20)
        int maxGram();

        /** Keeps tokens longer than max_gram whole, so long words still match exactly. */
        @BooleanSetting(path = "preserve_original", defaultValue = true)
        boolean preserveOriginal();
    }

    private final int minGram;
    private final int maxGram;
    private final boolean preserveOriginal;

    @Inject
    public EdgeNGramTokenFilterFactory(Settings settings) {
        if (settings.minGram() < 1 || settings.maxGram() < settings.minGram()) {
            throw new IllegalArgumentException(
                "maillage_edge_ngram needs 1 <= min_gram <= max_gram, got min_gram=" + settings.minGram()
                    + ", max_gram=" + settings.maxGram());
        }
        this.minGram = settings.minGram();
        this.maxGram = settings.maxGram();
        this.preserveOriginal = settings.preserveOriginal();
    }

    @Override
    public TokenStream create(TokenStream tokenStream) {
        return new EdgeNGramTokenFilter(tokenStream, minGram, maxGram, preserveOriginal);
    }

    @Override
    public AnalysisMode getAnalysisMode() {
        return AnalysisMode.INDEX_TIME;
    }
}
