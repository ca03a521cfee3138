<?php
// Prints the body PHP's non-WSDL SoapServer sends for a GetBilling answer, so the fast CDR scanner in
// soap.py can be checked byte for byte against PHP's own encoder (libxml2 escaping, nil, empty strings,
// UTF-8). Usage: php billing_response.php ROWS SEED MODE
//   MODE cdr    : CDR rows as the platform sends them (every value a string or null), awkward text mixed in
//   MODE mixed  : the same, then rows PHP types differently (int, float, bool, nested array, other keys)
//   MODE empty  : no rows at all
//   MODE fault  : a SoapFault
$rows = (int)$argv[1];
$seed = (int)$argv[2];
$mode = $argv[3];
mt_srand($seed);

$awkward = array('', null, 'a & b', '<tag>', 'x > y', '"quoted"', "it's", 'Zażółć gęślą jaźń', 'ŁÓDŹ Śląsk',
    "line\r\nbreak", "tab\there", "trailing\n", ']]>', '&amp; literally', '&#13;', '😀 emoji', ' spaced ',
    'Usługi & Handel <Groszek>', 'ż', "\r", '\\backslash', '%s %d', '0', 'NULL');
$fields = array('id', 'start_time', 'duration', 'rel_cause', 'customer_name', 'terminal_name', 'ext_billing_id',
    'caller', 'bill_cpb', 'calltype', 'country', 'description', 'operator', 'type', 'price', 'cost',
    'init_charge', 'reseller_price', 'reseller_cost', 'reseller_init_charge', 'margin', 'subscription_used',
    'platform_type');

function cdr($i, $awkward, $fields) {
    $row = array();
    foreach ($fields as $f) {
        $row[$f] = (string)(mt_rand(0, 99999));
    }
    $row['id'] = (string)(1000000 + $i);
    $row['start_time'] = sprintf('2024-03-%02d %02d:%02d:%02d', 1 + $i % 28, mt_rand(0, 23), mt_rand(0, 59), mt_rand(0, 59));
    $row['price'] = sprintf('%.4f', mt_rand(0, 99999) / 10000);
    for ($k = mt_rand(0, 4); $k > 0; $k--) {
        $row[$fields[mt_rand(4, count($fields) - 1)]] = $awkward[mt_rand(0, count($awkward) - 1)];
    }
    return $row;
}

class BillingLike {
    public function request($realm, $action, $args, $sessid) {
        global $rows, $mode, $awkward, $fields;
        if ($mode === 'fault') {
            throw new SoapFault('Server', 'Billing & <database> is down');
        }
        $r = new stdClass();
        $r->success = true;
        $out = array();
        if ($mode !== 'empty') {
            for ($i = 0; $i < $rows; $i++) {
                $out[] = cdr($i, $awkward, $fields);
            }
        }
        if ($mode === 'mixed') {
            $typed = cdr($rows, $awkward, $fields);
            $typed['duration'] = 42; $typed['cost'] = 0.25; $typed['subscription_used'] = true;
            $out[] = $typed;
            $out[] = array('nested' => array('a' => 'b & c'), 'list' => array(1, 2));
            $out[] = array('other' => 'keys', 'order' => null);
            for ($i = 0; $i < 3; $i++) {
                $out[] = cdr($rows + 3 + $i, $awkward, $fields);
            }
        }
        $r->result_set = $out;
        return $r;
    }
}

$request = '<?xml version="1.0" encoding="UTF-8"?>'
    . '<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/" '
    . 'xmlns:ns1="https://backend.hiperus.pl:8080/hiperusapi.php" xmlns:xsd="http://www.w3.org/2001/XMLSchema" '
    . 'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:SOAP-ENC="http://schemas.xmlsoap.org/soap/encoding/" '
    . 'SOAP-ENV:encodingStyle="http://schemas.xmlsoap.org/soap/encoding/"><SOAP-ENV:Body><ns1:request>'
    . '<param0 xsi:type="xsd:string">PLATFORM_MNGM</param0><param1 xsi:type="xsd:string">GetBilling</param1>'
    . '<param2 xsi:type="SOAP-ENC:Struct"></param2><param3 xsi:nil="true"/></ns1:request></SOAP-ENV:Body>'
    . '</SOAP-ENV:Envelope>';
$server = new SoapServer(null, array('uri' => 'https://backend.hiperus.pl:8080/hiperusapi.php'));
$server->setClass('BillingLike');
$server->handle($request);
