/*!
 * jQuery JavaScript Library v3.2.1
 * https://jquery.com/
 */
