package export

// AppendCell exposes the CSV cell encoding to the tests.
var AppendCell = appendCell
