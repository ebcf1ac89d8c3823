package fr.maillage.analysis;

import org.apache.lucene.analysis.TokenStream;
import org.apache.lucene.analysis.fr.FrenchAnalyzer;
import org.apache.lucene.analysis.util.ElisionFilter;
import org.elasticsearch.plugin.NamedComponent;
import org.elasticsearch.plugin.analysis.TokenFilterFactory;

/**
 * Removes French elided articles and pronouns (l', d', qu', j', jusqu'...), with straight or typographic
 * apostrophes: "l'ingénierie" -> "ingénierie". Case-insensitive, so it may run before or after lowercasing.
 */
@NamedComponent("maillage_elision")
public final class ElisionTokenFilterFactory implements TokenFilterFactory {
    @Override
    public TokenStream create(TokenStream tokenStream) {
        return new ElisionFilter(tokenStream, FrenchAnalyzer.DEFAULT_ARTICLES);
    }

    @Override
    public TokenStream normalize(TokenStream tokenStream) {
        return create(tokenStream);
    }
}
