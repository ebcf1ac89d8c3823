package fr.maillage.analysis;

import org.apache.lucene.analysis.TokenStream;
import org.apache.lucene.analysis.fr.FrenchLightStemFilter;
import org.elasticsearch.plugin.NamedComponent;
import org.elasticsearch.plugin.analysis.TokenFilterFactory;

/**
 * Lucene's light French stemmer (Savoy): "paiements" -> "paie" = "paiement", "sociétés" -> "societ".
 * Expects lowercase input; run it after ASCII folding so that accented and unaccented spellings ("réseaux",
 * "reseaux") always reach the same stem.
 */
@NamedComponent("maillage_french_stem")
public final class FrenchLightStemTokenFilterFactory implements TokenFilterFactory {
    @Override
    public TokenStream create(TokenStream tokenStream) {
        return new FrenchLightStemFilter(tokenStream);
    }
}
