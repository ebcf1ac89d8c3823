package fr.maillage.analysis;

import org.apache.lucene.analysis.TokenStream;
import org.elasticsearch.plugin.NamedComponent;
import org.elasticsearch.plugin.analysis.TokenFilterFactory;

/**
 * Folds accents and ligatures to ASCII ("Réseaux" -> "reseaux" after lowercasing). {@code normalize} folds the
 * terms of prefix, wildcard and fuzzy queries on analyzed fields too. (Keyword normalizers cannot use it:
 * Elasticsearch accepts no plugin filter there.)
 */
@NamedComponent("maillage_asciifolding")
public final class AsciiFoldingTokenFilterFactory implements TokenFilterFactory {
    @Override
    public TokenStream create(TokenStream tokenStream) {
        return new AsciiFoldingFilter(tokenStream);
    }

    @Override
    public TokenStream normalize(TokenStream tokenStream) {
        return create(tokenStream);
    }
}
