// Old code the team has decided not to scan.
var x = 1;
