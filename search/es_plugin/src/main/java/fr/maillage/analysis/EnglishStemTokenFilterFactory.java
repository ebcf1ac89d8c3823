package fr.maillage.analysis;

import org.apache.lucene.analysis.TokenStream;
import org.apache.lucene.analysis.en.KStemFilter;
import org.elasticsearch.plugin.NamedComponent;
import org.elasticsearch.plugin.analysis.TokenFilterFactory;

/**
 * English stemming with Lucene's KStem: dictionary-backed and light, so "networks" -> "network",
 * "companies" -> "company", "secured" -> "secure", without Porter's over-reach ("engineering" -> "engin",
 * "organization" -> "organ"). Expects lowercase input.
 */
@NamedComponent("maillage_english_stem")
public final class EnglishStemTokenFilterFactory implements TokenFilterFactory {
    @Override
    public TokenStream create(TokenStream tokenStream) {
        return new KStemFilter(tokenStream);
    }
}
